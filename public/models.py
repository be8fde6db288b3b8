from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class HelpEntry(models.Model):
    """A question and answer of the public help page, in Chinese and English, edited by regional staff."""

    number = models.PositiveSmallIntegerField(_("number"), unique=True)
    question_zh = models.CharField(_("question (Chinese)"), max_length=300)
    answer_zh = models.TextField(_("answer (Chinese)"))
    question_en = models.CharField(_("question (English)"), max_length=300)
    answer_en = models.TextField(_("answer (English)"))
    published = models.BooleanField(_("published"), default=True)

    class Meta:
        ordering = ["number"]
        verbose_name = _("help entry")
        verbose_name_plural = _("help entries")

    def __str__(self):
        return f"{self.number}. {self.question_zh}"

    def _english(self):
        return (get_language() or "").startswith("en")

    @property
    def question(self):
        return self.question_en if self._english() and self.question_en else self.question_zh

    @property
    def answer(self):
        return self.answer_en if self._english() and self.answer_en else self.answer_zh


def create_help_entries(help_entry_model):
    """Seed the 22 FAQ answers; entries staff already have are left as they are."""
    from .faq_seed import FAQ_ENTRIES

    for entry in FAQ_ENTRIES:
        help_entry_model.objects.get_or_create(number=entry["number"], defaults=entry)
