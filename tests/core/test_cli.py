import pytest
from django.contrib.auth import get_user_model

from omnimall import cli


@pytest.mark.django_db
def test_production_problems_refuses_debug_demo_secret_and_demo_password(settings):
    settings.DEBUG = True
    settings.SECRET_KEY = settings.DEMO_SECRET_KEY
    settings.SITE_URL = ""
    settings.SANDBOX_PARTNER_ENABLED = True
    get_user_model().objects.create_user(
        username="admin", password=cli.DEMO_STAFF_PASSWORD, is_staff=True
    )

    problems = cli.production_problems()

    assert any("debug is on" in p for p in problems)
    assert any("demo secret key" in p for p in problems)
    assert any("demo password: admin" in p for p in problems)
    assert any("OMNIMALL_SITE_URL" in p for p in problems)
    assert any("OMNIMALL_SANDBOX_PARTNER=0" in p for p in problems)


@pytest.mark.django_db
def test_production_problems_empty_when_settings_are_safe(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = "a-real-secret-from-the-environment-0123456789"
    settings.SITE_URL = "https://shop.example.com"
    settings.PROXY_COUNT = 1
    settings.SANDBOX_PARTNER_ENABLED = False
    get_user_model().objects.create_user(
        username="ops", password="Str0ng-and-private", is_staff=True
    )

    assert cli.production_problems() == []


@pytest.mark.django_db
def test_an_https_shop_behind_a_proxy_must_say_how_many_proxies(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = "a-real-secret-from-the-environment-0123456789"
    settings.SANDBOX_PARTNER_ENABLED = False
    settings.SITE_URL = "https://shop.example.com"
    settings.PROXY_COUNT = 0

    assert any("OMNIMALL_PROXY_COUNT" in p for p in cli.production_problems())
    assert cli.production_problems(tls_in_app=True) == []  # gunicorn --certfile: no proxy
    settings.SITE_URL = "http://10.0.0.5:8000"  # plain HTTP straight to the app
    assert cli.production_problems() == []


@pytest.mark.django_db
def test_serve_exits_with_reasons_when_settings_are_unsafe(settings, capsys):
    settings.DEBUG = True

    with pytest.raises(SystemExit) as exit_info:
        cli.serve("127.0.0.1:0", 1, [])

    assert exit_info.value.code == 2
    assert "refuses to start" in capsys.readouterr().err


def test_manage_runs_django_commands(capsys):
    cli.main(["manage", "check"])

    assert "no issues" in capsys.readouterr().out


@pytest.mark.django_db
def test_demo_shopper_gets_one_saved_address_and_keeps_an_edited_one():
    from omnimall.checkout.models import Address

    cli._ensure_demo_staff()
    cli._ensure_demo_staff()  # `make demo` again: nothing doubled

    (address,) = Address.objects.filter(user__username=cli.DEMO_SHOPPER_EMAIL)
    assert (address.city, address.district, address.is_default) == ("上海市", "黄浦区", True)
    Address.objects.filter(pk=address.pk).update(street="edited by hand")
    cli._ensure_demo_staff()
    assert Address.objects.get(pk=address.pk).street == "edited by hand"


@pytest.mark.parametrize(
    ("host", "url"),
    [("127.0.0.1", "http://127.0.0.1:8765"), ("0.0.0.0", "http://127.0.0.1:8765")],  # noqa: S104
)
def test_the_demos_public_url_is_where_a_browser_here_reaches_it(host, url):
    assert cli._demo_url(host, 8765) == url
