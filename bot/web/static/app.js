// Small progressive enhancements; every page works without JavaScript.
document.addEventListener("submit", function (ev) {
  var msg = ev.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) { ev.preventDefault(); }
});
document.addEventListener("DOMContentLoaded", function () {
  // Filter the rows of a table as you type (members page), on top of the server search.
  var box = document.querySelector("input[data-filter]");
  if (!box) { return; }
  var rows = document.querySelectorAll(box.getAttribute("data-filter") + " tbody tr");
  box.addEventListener("input", function () {
    var q = box.value.trim().toLowerCase();
    rows.forEach(function (r) { r.hidden = q && r.textContent.toLowerCase().indexOf(q) < 0; });
  });
});
