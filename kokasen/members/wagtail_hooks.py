"""The members area's check on every document request, after Wagtail's own."""

from wagtail import hooks

from . import access

# After wagtail.documents' check_view_restrictions (order 0), which sends visitors who
# are not in a restriction's groups to the login page.
CHECK_ORDER = 100


@hooks.register("before_serve_document", order=CHECK_ORDER)
def refuse_protected_documents_to_non_readers(document, request):
    """Also refuses a protected file whose collection lost its restriction, and staff who
    have not passed the TOTP step. The response itself comes from views.serve_document."""
    return access.collection_item_refusal(document, request, wagtail_checked=True)
