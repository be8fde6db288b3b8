from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    """Uploads are never addressed by URL: they are read through permission-checked views."""

    def url(self, name):
        raise NotImplementedError("Uploaded files have no public URL; serve them through a permission-checked view.")
