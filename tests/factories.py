"""factory_boy factories shared by the tests."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from realms.models import Realm, RealmEmail, RealmGroup, RealmGroupMembership, RealmUser, ServiceAccount

User = get_user_model()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def permissions(self, create, extracted, **kwargs):
        """permissions=["app.codename", ...] gives the user those permissions directly."""
        if create and extracted:
            for perm in extracted:
                app_label, codename = perm.split(".")
                self.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        if create:
            self.save()


class SuperUserFactory(UserFactory):
    is_superuser = True
    is_staff = True


class ServiceAccountFactory(factory.django.DjangoModelFactory):
    """The user of a service account (what tokens are issued for), with its ServiceAccount row."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"svc{n}")
    password = factory.PostGenerationMethodCall("set_unusable_password")

    @factory.post_generation
    def service_account(self, create, extracted, **kwargs):
        if create:
            self.save()
            ServiceAccount.objects.create(user=self, description=kwargs.get("description", ""))

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.set(extracted)


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"group{n}")

    @factory.post_generation
    def permissions(self, create, extracted, **kwargs):
        if create and extracted:
            for perm in extracted:
                app_label, codename = perm.split(".")
                self.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


class RealmFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Realm

    name = factory.Sequence(lambda n: f"Realm {n}")
    scim_enabled = True


class RealmUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RealmUser

    realm = factory.SubFactory(RealmFactory)
    username = factory.Sequence(lambda n: f"person{n}@example.com")
    given_name = "Jane"
    family_name = factory.Sequence(lambda n: f"Doe{n}")
    attributes = factory.LazyAttribute(
        lambda o: {
            "userName": o.username,
            "name": {"givenName": o.given_name, "familyName": o.family_name},
            "emails": [{"value": o.username, "type": "work", "primary": True}],
        }
    )


class RealmEmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RealmEmail

    user = factory.SubFactory(RealmUserFactory)
    value = factory.LazyAttribute(lambda o: o.user.username)
    type = "work"
    primary = True


class RealmGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RealmGroup

    realm = factory.SubFactory(RealmFactory)
    display_name = factory.Sequence(lambda n: f"Team {n}")


class RealmGroupMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RealmGroupMembership

    group = factory.SubFactory(RealmGroupFactory)
    user = factory.SubFactory(RealmUserFactory, realm=factory.SelfAttribute("..group.realm"))
