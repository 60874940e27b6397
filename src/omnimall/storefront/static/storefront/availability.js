// Product page: the availability fragment follows the variant picked in place.
// shop.js switches variants without a page load (and updates ?sku= in the address bar);
// the fragment itself loads with HTMX (hx-trigger="load") and changes city by its own form.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    // shop.js handled the click (it prevents the navigation) before it bubbled up here.
    if (!event.defaultPrevented || !window.htmx) return;
    var link = event.target.closest && event.target.closest("[data-variant-picker] a[href^='?sku=']");
    var box = document.getElementById("availability");
    if (!link || !box) return;
    var params = new URLSearchParams({ sku: new URLSearchParams(window.location.search).get("sku") || "" });
    var city = box.querySelector("select[name=city]");
    if (city && city.value) params.set("city", city.value);
    window.htmx.ajax("GET", box.getAttribute("data-availability-url") + "?" + params.toString(), {
      target: box,
      swap: "innerHTML",
    });
  });
})();
