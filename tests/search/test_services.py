from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from omnimall.catalog.services import delete_audited, save_audited
from omnimall.search.models import SearchDocument, SearchTerm, ZeroResultQuery
from omnimall.search.selectors import search_listing
from omnimall.search.services import rebuild_index, record_zero_result_query
from tests.catalog.factories import TEST_ACTOR


def _slugs(query: str) -> list[str]:
    return [card.slug for card in search_listing(query, {}).page.items]


def test_save_audited_updates_results_when_product_is_renamed(
    shop, django_capture_on_commit_callbacks
):
    assert _slugs("velvet") == []

    shop.tee.name_en = "Velvet Lounge Tee"
    with django_capture_on_commit_callbacks(execute=True):
        save_audited(instance=shop.tee, actor=TEST_ACTOR)

    assert _slugs("velvet") == ["cotton-tee"]
    assert _slugs("cotton") == []


def test_save_audited_removes_product_when_deactivated(shop, django_capture_on_commit_callbacks):
    shop.dress.is_active = False
    with django_capture_on_commit_callbacks(execute=True):
        save_audited(instance=shop.dress, actor=TEST_ACTOR)

    assert _slugs("silk") == []
    assert not SearchDocument.objects.filter(product_id=shop.dress.pk).exists()
    assert not SearchTerm.objects.filter(term="silk").exists()


def test_delete_audited_removes_product_when_deleted(shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        delete_audited(instance=shop.dress, actor=TEST_ACTOR)

    assert _slugs("dress") == []


def test_category_rename_reindexes_its_products_when_name_changes(
    shop, django_capture_on_commit_callbacks
):
    shop.shoes.name_en = "Footwear"
    with django_capture_on_commit_callbacks(execute=True):
        save_audited(instance=shop.shoes, actor=TEST_ACTOR)

    # the runner sits in a child category: inherited path names are indexed too
    assert _slugs("footwear") == ["trail-runner"]


def test_brand_rename_reindexes_its_products_when_name_changes(
    shop, django_capture_on_commit_callbacks
):
    brand = shop.tee.brand
    brand.name_en = "Zephyrwear"
    with django_capture_on_commit_callbacks(execute=True):
        save_audited(instance=brand, actor=TEST_ACTOR)

    assert _slugs("zephyrwear") == ["cotton-tee"]


def test_rebuild_index_restores_documents_and_vocabulary_when_index_was_lost(shop):
    SearchDocument.objects.all().delete()
    SearchTerm.objects.all().delete()
    assert _slugs("sneakers") == []

    count = rebuild_index()

    assert count == 3
    assert _slugs("sneakers") == ["trail-runner"]
    assert SearchTerm.objects.get(term="tops").doc_count == 2


def test_rebuild_search_index_command_reports_count_when_run(shop):
    out = StringIO()

    call_command("rebuild_search_index", "--no-progress", stdout=out)

    assert "Indexed 3 products" in out.getvalue()
    assert SearchDocument.objects.count() == 3
    assert _slugs("运动鞋") == ["trail-runner"]


def test_incremental_vocabulary_matches_rebuild_when_products_changed(
    shop, django_capture_on_commit_callbacks
):
    shop.tee.name_en = "Linen Tee"
    with django_capture_on_commit_callbacks(execute=True):
        save_audited(instance=shop.tee, actor=TEST_ACTOR)
    incremental = dict(SearchTerm.objects.values_list("term", "doc_count"))

    rebuild_index()

    assert dict(SearchTerm.objects.values_list("term", "doc_count")) == incremental


@pytest.mark.django_db
def test_record_zero_result_query_counts_when_same_query_repeats():
    record_zero_result_query(query="  Unicorn   Boots ")
    record_zero_result_query(query="unicorn boots")

    row = ZeroResultQuery.objects.get()
    assert (row.query, row.count) == ("unicorn boots", 2)
    assert row.last_seen >= row.first_seen


@pytest.mark.django_db
def test_record_zero_result_query_ignores_blank_when_text_is_only_spaces():
    record_zero_result_query(query=" \x00 ")

    assert not ZeroResultQuery.objects.exists()


def test_save_audited_updates_results_when_index_was_rebuilt_first(
    shop, django_capture_on_commit_callbacks
):
    rebuild_index()

    shop.dress.name_en = "Velvet Gown"
    with django_capture_on_commit_callbacks(execute=True):
        save_audited(instance=shop.dress, actor=TEST_ACTOR)

    assert _slugs("velvet") == ["silk-dress"]
    assert _slugs("midi") == []
