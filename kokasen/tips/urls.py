from django.urls import path

from . import views

app_name = "tips"

urlpatterns = [
    path("", views.topic_index, name="index"),
    path("<int:pk>/", views.topic_detail, name="topic"),
    path("posts/<int:pk>/edit/", views.post_edit, name="post_edit"),
    path("posts/<int:pk>/withdraw/", views.post_withdraw, name="post_withdraw"),
]
