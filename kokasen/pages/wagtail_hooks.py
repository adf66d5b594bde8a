from wagtail import hooks


@hooks.register("after_create_page")
def create_policy_pages_under_a_new_home(request, page):
    """A new トップページ gets its お問い合わせ and policy pages at once (decision 0044)."""
    from .models import HomePage
    from .policies import ensure_policy_pages

    if isinstance(page.specific, HomePage):
        ensure_policy_pages(page.specific)
