"""(placeholder: filled by the meetings work)"""

urlpatterns = []
