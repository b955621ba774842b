// The html report's filters: plain JavaScript that reads the page's data
// attributes, so it works from a file as well as served, and makes no
// request. Without it the page shows everything and the filters stay hidden.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) {
    return;
  }
  var state = document.getElementById("filter-state");
  var tenant = document.getElementById("filter-tenant");
  var rule = document.getElementById("filter-rule");
  var attention = document.getElementById("filter-attention");
  var count = document.getElementById("filter-count");

  function words(el, name) {
    var v = el.getAttribute(name);
    return v ? v.split(" ") : [];
  }

  // matches reports whether an environment (its matrix row or its section)
  // passes the filters. With "only findings that need attention", the rule
  // filter asks where that rule needs attention, not merely where it ran.
  function matches(el) {
    if (state.value && words(el, "data-states").indexOf(state.value) < 0) {
      return false;
    }
    if (tenant.value && el.getAttribute("data-tenant") !== tenant.value) {
      return false;
    }
    var rules = attention.checked ? "data-attention-rules" : "data-rules";
    return !rule.value || words(el, rules).indexOf(rule.value) >= 0;
  }

  function hide(el, hidden) {
    el.classList.toggle("filtered-out", hidden);
  }

  function apply() {
    var rows = document.querySelectorAll("table.matrix tr.env");
    var shown = 0;
    rows.forEach(function (row) {
      var ok = matches(row);
      hide(row, !ok);
      if (ok) {
        shown++;
      }
    });
    document.querySelectorAll("table.matrix tbody.tenant").forEach(function (group) {
      hide(group, group.querySelector("tr.env:not(.filtered-out)") === null);
    });
    document.querySelectorAll("section.environment").forEach(function (section) {
      hide(section, !matches(section));
      var visible = 0;
      section.querySelectorAll("tr.finding").forEach(function (f) {
        var ok = (!rule.value || f.getAttribute("data-rule") === rule.value) &&
          (!attention.checked || f.getAttribute("data-attention") === "true");
        hide(f, !ok);
        if (ok) {
          visible++;
        }
      });
      var none = section.querySelector("tr.none-match");
      if (none) {
        none.hidden = visible > 0;
      }
    });
    var filtered = state.value || tenant.value || rule.value || attention.checked;
    count.textContent = filtered ?
      "Showing " + shown + " of " + rows.length + " environments" :
      "All " + rows.length + " environments";
  }

  form.addEventListener("change", apply);
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
  });
  form.addEventListener("reset", function () {
    // The form resets its controls after this event: filter once it has.
    setTimeout(apply, 0);
  });

  // A printed report has every detail open; the reader's choice comes back
  // afterwards.
  var closed = [];
  window.addEventListener("beforeprint", function () {
    closed = Array.prototype.filter.call(document.querySelectorAll("details"), function (d) {
      return !d.open;
    });
    closed.forEach(function (d) {
      d.open = true;
    });
  });
  window.addEventListener("afterprint", function () {
    closed.forEach(function (d) {
      d.open = false;
    });
    closed = [];
  });

  form.hidden = false;
  apply();
  document.documentElement.setAttribute("data-filters", "ready");
})();
