"""The members area's check on every document request, after Wagtail's own, the image
moves that Wagtail's bulk actions make without saving each image, and the warning about a
video without captions or transcript."""

from django.contrib import messages
from wagtail import hooks
from wagtail.images import get_image_model

from . import access
from .models import NO_CAPTIONS_WARNING, RoundtablePage

# After wagtail.documents' check_view_restrictions (order 0), which sends visitors who
# are not in a restriction's groups to the login page.
CHECK_ORDER = 100


@hooks.register("before_serve_document", order=CHECK_ORDER)
def refuse_protected_documents_to_non_readers(document, request):
    """Also refuses a protected file whose collection lost its restriction, and staff who
    have not passed the TOTP step. The response itself comes from views.serve_document.
    The image view (views.serve_image) runs the same check."""
    return access.collection_item_refusal(document, request, wagtail_checked=True)


@hooks.register("after_bulk_action")
def secure_images_after_bulk_actions(request, action_type, objects, action_class_instance):
    """「コレクションに追加」 in the image listing moves images with one UPDATE, without a
    save signal: put their files where their new collection wants them (inside the
    action's transaction, like a save)."""
    Image = get_image_model()
    images = [obj for obj in objects if isinstance(obj, Image)]
    if images:
        from .services import protected_images_secure

        protected_images_secure(image_ids=[image.pk for image in images], acting_user=request.user)


@hooks.register("after_create_page")
@hooks.register("after_edit_page")
def warn_of_a_video_without_captions_or_transcript(request, page):
    """After saving a 座談会 whose video has neither captions nor a transcript, a warning above
    Wagtail's own message (the listing also marks the page: RoundtablePage.get_admin_display_title)."""
    page = page.specific
    if isinstance(page, RoundtablePage) and page.lacks_captions_and_transcript:
        messages.warning(request, NO_CAPTIONS_WARNING.format(title=page.title))
