"""The members area's check on every document request, after Wagtail's own."""

from wagtail import hooks

from . import access
from .models import is_protected_document

# After wagtail.documents' check_view_restrictions (order 0), which sends visitors who
# are not in a restriction's groups to the login page.
CHECK_ORDER = 100


@hooks.register("before_serve_document", order=CHECK_ORDER)
def refuse_protected_documents_to_non_readers(document, request):
    """Also refuses a protected file whose collection lost its restriction, and staff who
    have not passed the TOTP step. The response itself comes from views.serve_document."""
    restricted = document.collection.get_view_restrictions().exists()
    if (restricted or is_protected_document(document)) and not access.can_read_members_area(request.user):
        return access.refuse(request)
    return None
