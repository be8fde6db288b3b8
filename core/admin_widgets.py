"""Admin widgets that Django draws without a label for each box."""

from django.contrib.admin import widgets


class LabelledSplitDateTime(widgets.AdminSplitDateTime):
    """Django's date and time boxes of one field, each with its own <label> ("日期：", "时间："): Django writes those
    words as bare text and the field's label points at neither box, so axe finds two unlabelled inputs (label,
    critical) and a screen reader announces them without a name."""

    template_name = "core/widgets/split_datetime.html"
