// omnimall storefront: small progressive enhancements. Every feature here also works
// without JavaScript (plain links and GET forms); the script only makes it instant.
(function () {
  "use strict";

  // Sort selector: submit on a choice (the <noscript> button does it without JS). A closed
  // select also changes with each arrow key (Chrome, Firefox on Windows and Linux): that
  // choice waits for Enter or for the shopper to leave the menu, so moving through the
  // options does not reload the listing at every step (WCAG 3.2.2, on input).
  // Space and Alt+Arrow open the list instead: a choice made in it submits at once.
  var NAVIGATION_KEY = /^(Arrow|Page|Home|End)|^[^ ]$/;
  var lastKey = null; // the key that moved the select, when a key did
  var waiting = null; // a select changed by such a key, not submitted yet
  function autosubmitSelect(target) {
    return target && target.closest ? target.closest("select[data-autosubmit]") : null;
  }
  function submitChoice(select) {
    waiting = null;
    if (!select.form) return;
    if (select.form.requestSubmit) select.form.requestSubmit();
    else select.form.submit();
  }
  document.addEventListener("keydown", function (event) {
    var select = autosubmitSelect(event.target);
    if (!select) return;
    if (event.key === "Enter" && waiting === select) {
      event.preventDefault();
      submitChoice(select);
      return;
    }
    lastKey = event.altKey ? null : event.key;
  });
  document.addEventListener("pointerdown", function () {
    lastKey = null;
  });
  document.addEventListener("change", function (event) {
    var select = autosubmitSelect(event.target);
    if (!select) return;
    if (lastKey !== null && NAVIGATION_KEY.test(lastKey)) waiting = select;
    else submitChoice(select);
  });
  document.addEventListener("focusout", function (event) {
    if (waiting && event.target === waiting) submitChoice(waiting);
  });

  // Filters start folded on phones, where they would push the products off screen. A
  // listing redrawn by a filter, the sort or a page keeps them as the shopper left them:
  // open, while choosing several filters in a row.
  function foldFacets() {
    if (window.matchMedia("(max-width: 860px)").matches) {
      document.querySelectorAll("details.facets-toggle[open]").forEach(function (d) {
        d.removeAttribute("open");
      });
    }
  }
  document.addEventListener("DOMContentLoaded", foldFacets);
  var facetsOpen = null; // while a new listing is swapped in: were its filters open?
  document.addEventListener("htmx:beforeSwap", function (event) {
    var listing = event.detail.target;
    if (listing && listing.id === "listing") {
      var facets = listing.querySelector("details.facets-toggle");
      facetsOpen = !!(facets && facets.open);
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (facetsOpen === null) return;
    if (!facetsOpen) foldFacets();
    facetsOpen = null;
  });

  // The language form posts the page to come back to; after HTMX swaps (facets, sort,
  // pages) the address bar is ahead of the server-rendered value, so send the live one.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.classList && form.classList.contains("lang-switch") && form.next) {
      form.next.value = window.location.pathname + window.location.search;
    }
  });

  // A form that cannot be undone (cancel an order) asks first; without JavaScript it
  // posts as it is.
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // Gallery thumbnails scroll the gallery instead of jumping the whole page.
  document.addEventListener("click", function (event) {
    var thumb = event.target.closest && event.target.closest(".gallery-thumbs a[href^='#image-']");
    if (!thumb) return;
    var slide = document.getElementById(thumb.getAttribute("href").slice(1));
    if (!slide || !slide.parentElement) return;
    event.preventDefault();
    slide.parentElement.scrollTo({ left: slide.offsetLeft - slide.parentElement.offsetLeft, behavior: "smooth" });
  });

  // Escape closes the live suggestions.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      var box = document.getElementById("search-suggestions");
      if (box) box.innerHTML = "";
    }
  });

  // Variant picker: the same rule as the server (storefront.presenters.variant_picker):
  // clicking a size keeps the current colour when that SKU exists, and vice versa.
  function initVariantPicker() {
    var picker = document.querySelector("[data-variant-picker]");
    var dataNode = document.getElementById("sku-data");
    if (!picker || !dataNode) return;
    var skus = JSON.parse(dataNode.textContent);
    if (!skus.length) return;
    var params = new URLSearchParams(window.location.search);
    var wanted = (params.get("sku") || "").toUpperCase();
    var current = skus.find(function (s) { return s.code.toUpperCase() === wanted; }) || skus[0];

    function pick(size, colour) {
      return skus.find(function (s) {
        return (size === null || s.size === size) && (colour === null || s.colour === colour);
      });
    }

    function render() {
      picker.querySelectorAll("[data-size]").forEach(function (el) {
        var size = el.getAttribute("data-size");
        var target = pick(size, current.colour) || pick(size, null);
        el.setAttribute("href", "?sku=" + encodeURIComponent(target.code));
        var on = size === current.size;
        el.classList.toggle("is-selected", on);
        if (on) el.setAttribute("aria-current", "true"); else el.removeAttribute("aria-current");
      });
      picker.querySelectorAll("[data-colour]").forEach(function (el) {
        var colour = el.getAttribute("data-colour");
        var target = pick(current.size, colour) || pick(null, colour);
        el.setAttribute("href", "?sku=" + encodeURIComponent(target.code));
        var on = colour === current.colour;
        el.classList.toggle("is-selected", on);
        if (on) el.setAttribute("aria-current", "true"); else el.removeAttribute("aria-current");
      });
      var price = document.querySelector("#product-price [data-role=price]");
      var listPrice = document.querySelector("#product-price [data-role=list-price]");
      var listPriceBox = document.querySelector("#product-price [data-role=list-price-box]");
      if (price) {
        price.textContent = current.price;
        price.classList.toggle("price-sale", !!current.list_price);
      }
      if (listPrice) listPrice.textContent = current.list_price;
      // The box holds the struck price and, for screen readers, what it is.
      if (listPriceBox) listPriceBox.hidden = !current.list_price;
      var code = document.querySelector("[data-role=sku]");
      if (code) code.textContent = current.code;
      var sizeName = picker.querySelector("[data-role=size-name]");
      if (sizeName) sizeName.textContent = current.size;
      var colourName = picker.querySelector("[data-role=colour-name]");
      var colourEl = picker.querySelector('[data-colour="' + current.colour + '"]');
      if (colourName && colourEl) colourName.textContent = colourEl.getAttribute("data-colour-name");
      document.querySelectorAll(".options-table tbody tr").forEach(function (row) {
        var link = row.querySelector("a");
        row.classList.toggle("is-selected", !!link && link.textContent === current.code);
      });
      showColourPhoto("smooth");
    }

    // Show the first photo of the chosen colour, when the gallery has one.
    function showColourPhoto(behavior) {
      var slide = document.querySelector('.gallery-slide[data-colour="' + current.colour + '"]');
      if (slide && slide.parentElement) {
        slide.parentElement.scrollTo({ left: slide.offsetLeft - slide.parentElement.offsetLeft, behavior: behavior });
      }
    }
    // A page opened on another colour's SKU (?sku=, a shared link) starts on its photo.
    if (current !== skus[0]) showColourPhoto("auto");

    picker.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='?sku=']");
      if (!link || event.metaKey || event.ctrlKey || event.shiftKey) return;
      var code = decodeURIComponent(link.getAttribute("href").slice(5));
      var next = skus.find(function (s) { return s.code === code; });
      if (!next) return;
      event.preventDefault();
      current = next;
      render();
      var url = new URL(window.location.href);
      url.searchParams.set("sku", current.code);
      window.history.replaceState(null, "", url);
    });
  }
  document.addEventListener("DOMContentLoaded", initVariantPicker);

  // Checkout's store picker is redrawn when the city changes; a store the shopper picks
  // while that request is on its way stays picked (the server drew the earlier choice).
  var pickedStore = null;
  document.addEventListener("change", function (event) {
    if (event.target.name === "store" && event.target.closest("#store-picker")) {
      pickedStore = event.target.value;
    }
  });
  document.addEventListener("htmx:afterSwap", function () {
    var picker = document.getElementById("store-picker");
    if (!pickedStore || !picker) return;
    picker.querySelectorAll("input[name=store]").forEach(function (radio) {
      if (radio.value === pickedStore) radio.checked = true;
    });
  });
})();
