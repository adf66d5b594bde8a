"""A page's HTML as the tests read it."""


def page_html(response) -> str:
    """The response's HTML without the ``<wbr>`` phrase breaks that headings, menus and lists carry
    (decision 0055), so that a title is found, or rightly not found, as one string."""
    return response.content.decode("utf-8").replace("<wbr>", "")
