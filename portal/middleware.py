class DefaultLanguageMiddleware:
    """Chinese unless the user chose otherwise: the browser's Accept-Language is not a choice.

    The language comes from the URL prefix of the public site or the language cookie that the
    language switch sets; without either, LocaleMiddleware falls back to LANGUAGE_CODE (zh-hans).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
