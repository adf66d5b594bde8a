from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "kokasen.pages"
    verbose_name = "公開ページ"

    def ready(self):
        from django.db.models.signals import post_delete, post_save
        from wagtail.models import Page, PageViewRestriction, Site
        from wagtail.signals import page_published, page_unpublished, post_page_move

        from . import chrome
        from .models import MenuGroup, PortalSettings

        chrome_models = (Page, PageViewRestriction, Site, PortalSettings, MenuGroup)

        def model_changed(sender, instance, **kwargs):
            if isinstance(instance, chrome_models):
                chrome.changed()

        post_save.connect(model_changed, weak=False, dispatch_uid="kokasen-chrome-save")
        post_delete.connect(model_changed, weak=False, dispatch_uid="kokasen-chrome-delete")
        page_published.connect(chrome.changed, dispatch_uid="kokasen-chrome-published")
        page_unpublished.connect(chrome.changed, dispatch_uid="kokasen-chrome-unpublished")
        post_page_move.connect(chrome.changed, dispatch_uid="kokasen-chrome-moved")

        from kokasen.core import request_cache

        request_cache.register(chrome.prefetch_keys)  # one round trip for the request's generations

        from . import published_files

        published_files.connect()  # anonymous visitors' files (decision 0061)

        from kokasen.notifications import emails

        from .policies import contact_path

        emails.set_contact_page(contact_path)  # every e-mail names the お問い合わせ page (decision 0044)
