"""Reference data that data migrations create, recreated after tests that flush the database."""


def create_reference_data():
    from applications.models import ExamSession
    from applications.seed import create_session_2024
    from offices.models import Office
    from offices.seed import create_offices
    from public.models import HelpEntry, create_help_entries
    from tickets.form_seed import create_form_templates
    from tickets.models import FormTemplate

    create_offices(Office)
    create_session_2024(ExamSession)
    create_help_entries(HelpEntry)
    create_form_templates(FormTemplate)
