"""The reference host's own user model: what a host typically has (a custom AbstractUser), nothing realms-specific."""

from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
