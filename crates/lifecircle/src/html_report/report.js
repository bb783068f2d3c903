// lifecircle report: colours the map by the chosen measure, draws the legend and the scale bar,
// and gives the map pan, zoom and a tooltip. It reads the figures from the JSON element #data
// and requests nothing.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("data").textContent);
  var svg = document.getElementById("map");
  var frame = svg.parentNode;
  var tip = document.getElementById("tip");
  var legend = document.getElementById("legend");
  var mode = document.getElementById("mode");
  var shapes = Array.prototype.slice.call(svg.querySelectorAll(".c"));
  var home = svg.getAttribute("viewBox").split(" ").map(Number);
  var view = home.slice();
  var gapBreaks = [0, 0.15, 0.3, 0.5, 1];
  var coverBreaks = [0.5, 0.7, 0.85, 0.95, 1];

  function pct(v) { return (v * 100).toFixed(1) + " %"; }
  function text(s) { return String(s).replace(/[&<>"']/g, function (c) {
    return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]; }); }

  function gapClass(share) {
    if (share <= 0) return 0;
    for (var k = 1; k < 5; k++) if (share <= gapBreaks[k]) return k;
    return 4;
  }
  // Coverage classes, best last: below 50 %, 50-70, 70-85, 85-95, 95 % and more.
  function coverClass(v) {
    for (var k = 0; k < 4; k++) if (v < coverBreaks[k]) return 4 - k;
    return 0;
  }
  // The chosen measure: today's or with the planned facilities ("p" before the value), and
  // "gap" or a category's index.
  function chosen() {
    var planned = mode.value.charAt(0) === "p";
    var v = planned ? mode.value.slice(1) : mode.value;
    return { planned: planned, gap: v === "gap", j: v === "gap" ? -1 : Number(v) };
  }
  // A community's figures in the chosen stage.
  function stage(c) { return chosen().planned && c.planned ? c.planned : c; }
  // The second stage in words, and whether each home's reach in it is known (the planned
  // facilities give it; a siting gives only the communities' figures).
  var stageLabel = data.stage_label || "with the planned facilities";
  var dotsHaveStage = !!svg.querySelector("circle.d[data-p]");
  function colourOf(c) {
    var m = chosen(), s = stage(c);
    if (m.gap) {
      return c.population > 0 ? data.gap_colours[gapClass(s.gap / c.population)] : data.empty_colour;
    }
    var v = s.coverage[m.j];
    return v === null || v === undefined ? data.empty_colour : data.gap_colours[coverClass(v)];
  }

  function drawLegend() {
    var html = "", sel = chosen();
    if (sel.planned) html += '<span class="title">' + text(stageLabel) + "</span>";
    if (sel.gap) {
      html += '<span class="title">Share of the people who lack at least one category</span>';
      for (var k = 0; k < 5; k++) html += '<span><span class="sw" style="background:' + data.gap_colours[k] + '"></span>' + data.gap_labels[k] + "</span>";
    } else {
      var cat = data.categories[sel.j];
      html += '<span class="title">Coverage: ' + text(cat.label) + " (of " + text(cat.counts) + "; target " + pct(cat.target) + ")</span>";
      for (var m = 0; m < 5; m++) html += '<span><span class="sw" style="background:' + data.gap_colours[m] + '"></span>' + data.cover_labels[m] + "</span>";
    }
    html += '<span><span class="sw" style="background:' + data.empty_colour + '"></span>nobody counted</span>';
    if (data.sites_label) {
      html += '<span class="title">New sites</span><span><span class="site"></span>' + text(data.sites_label) + "</span>";
    }
    if (svg.querySelector("circle.d") && (!sel.planned || dotsHaveStage)) {
      html += '<span class="title">Homes (demand points)</span>' +
        '<span><span class="ring" style="background:' + data.covered_colour + '"></span>within reach</span>' +
        '<span><span class="ring" style="background:' + data.lacking_colour + '"></span>' +
        (sel.gap ? "lacking at least one category" : "lacking it") + "</span>";
    }
    if (!sel.gap && svg.querySelector('g.sa[data-j="' + sel.j + '"] path')) {
      html += '<span class="title">Service area</span><span><span class="sw" style="background:' +
        data.categories[sel.j].colour + ';opacity:0.35"></span>within the walk of a facility</span>';
    }
    html += '<span class="title">Facilities</span>';
    data.categories.forEach(function (cat, j) {
      if (sel.gap || sel.j === j) {
        html += '<span><span class="dot" style="background:' + cat.colour + '"></span>' + text(cat.name) + "</span>";
      }
    });
    if (sel.planned && svg.querySelector("#planned")) {
      html += '<span><span class="diamond"></span>planned (colour of its category)</span>';
    }
    legend.innerHTML = html;
  }

  function recolour() {
    shapes.forEach(function (s) { s.setAttribute("fill", colourOf(data.communities[Number(s.dataset.i)])); });
    var sel = chosen();
    var homes = svg.querySelector("#demand");
    if (homes) homes.style.display = sel.planned && !dotsHaveStage ? "none" : "";
    var dots = svg.querySelectorAll("circle.d");
    for (var d = 0; d < dots.length && (!sel.planned || dotsHaveStage); d++) {
      var m = sel.planned ? dots[d].dataset.p : dots[d].dataset.m;
      var lacks = sel.gap ? m.indexOf("1") >= 0 : m.charAt(sel.j) === "1";
      dots[d].setAttribute("fill", lacks ? data.lacking_colour : data.covered_colour);
    }
    var areas = svg.querySelectorAll("g.sa");
    for (var k = 0; k < areas.length; k++) {
      areas[k].style.display = !sel.gap && Number(areas[k].dataset.j) === sel.j ? "" : "none";
    }
    var groups = svg.querySelectorAll("g.fac");
    for (var g = 0; g < groups.length; g++) {
      var planned = groups[g].classList.contains("planned");
      var show = (sel.gap || Number(groups[g].dataset.j) === sel.j) && (!planned || sel.planned);
      groups[g].style.display = show ? "" : "none";
    }
    drawLegend();
  }

  // The scale bar: a round length near a fifth of the map's width.
  function drawScale() {
    var px = svg.clientWidth || 1, pxh = svg.clientHeight || 1;
    var perPx = Math.max(view[2] / px, view[3] / pxh) * data.metres_per_unit;
    var want = perPx * px / 5, p = Math.pow(10, Math.floor(Math.log10(want)));
    var len = [1, 2, 5, 10].map(function (k) { return k * p; }).filter(function (v) { return v <= want; }).pop() || p;
    document.getElementById("scalebar").style.width = Math.round(len / perPx) + "px";
    document.getElementById("scalelabel").textContent = len >= 1000 ? (len / 1000) + " km" : len + " m";
  }
  function setView(v) {
    view = v;
    svg.setAttribute("viewBox", v.map(function (x) { return x.toFixed(1); }).join(" "));
    drawScale();
  }
  // The point of the map under client position (cx, cy).
  function toMap(cx, cy) {
    var r = svg.getBoundingClientRect();
    var s = Math.max(view[2] / r.width, view[3] / r.height);
    var ox = view[0] + view[2] / 2 - (r.width * s) / 2, oy = view[1] + view[3] / 2 - (r.height * s) / 2;
    return [ox + (cx - r.left) * s, oy + (cy - r.top) * s, s];
  }
  function zoom(f, cx, cy) {
    var r = svg.getBoundingClientRect();
    if (cx === undefined) { cx = r.left + r.width / 2; cy = r.top + r.height / 2; }
    var p = toMap(cx, cy);
    var w = Math.min(Math.max(view[2] * f, home[2] / 200), home[2] * 4), h = view[3] * (w / view[2]);
    setView([p[0] - (p[0] - view[0]) * (w / view[2]), p[1] - (p[1] - view[1]) * (h / view[3]), w, h]);
  }
  svg.addEventListener("wheel", function (e) { e.preventDefault(); zoom(e.deltaY > 0 ? 1.25 : 0.8, e.clientX, e.clientY); }, { passive: false });
  document.getElementById("zin").onclick = function () { zoom(0.67); };
  document.getElementById("zout").onclick = function () { zoom(1.5); };
  document.getElementById("zreset").onclick = function () { setView(home.slice()); };

  var pointers = {}, drag = null, pinch = null;
  svg.addEventListener("pointerdown", function (e) {
    pointers[e.pointerId] = [e.clientX, e.clientY];
    var ids = Object.keys(pointers);
    if (ids.length === 1) drag = { x: e.clientX, y: e.clientY, v: view.slice(), moved: false };
    if (ids.length === 2) {
      var a = pointers[ids[0]], b = pointers[ids[1]];
      pinch = Math.hypot(a[0] - b[0], a[1] - b[1]);
      drag = null;
    }
  });
  svg.addEventListener("pointermove", function (e) {
    if (pointers[e.pointerId]) pointers[e.pointerId] = [e.clientX, e.clientY];
    var ids = Object.keys(pointers);
    if (pinch && ids.length === 2) {
      var a = pointers[ids[0]], b = pointers[ids[1]], d = Math.hypot(a[0] - b[0], a[1] - b[1]);
      if (d > 0) zoom(pinch / d, (a[0] + b[0]) / 2, (a[1] + b[1]) / 2);
      pinch = d;
      return;
    }
    if (drag) {
      var s = toMap(0, 0)[2], dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (drag.moved) { setView([drag.v[0] - dx * s, drag.v[1] - dy * s, drag.v[2], drag.v[3]]); hideTip(); return; }
    }
    if (e.pointerType === "mouse") showTip(e);
  });
  function release(e) {
    var tap = drag && !drag.moved;
    delete pointers[e.pointerId];
    if (Object.keys(pointers).length < 2) pinch = null;
    if (tap && e.type === "pointerup" && e.pointerType !== "mouse") showTip(e);
    drag = null;
  }
  svg.addEventListener("pointerup", release);
  svg.addEventListener("pointercancel", release);
  svg.addEventListener("pointerleave", function (e) { if (e.pointerType === "mouse") hideTip(); });

  var shown = null;
  function hideTip() { tip.hidden = true; if (shown) shown.classList.remove("on"); shown = null; }
  function showTip(e) {
    var el = document.elementFromPoint(e.clientX, e.clientY);
    if (!el || !el.classList || !el.classList.contains("c")) { hideTip(); return; }
    var c = data.communities[Number(el.dataset.i)];
    if (shown !== el) { if (shown) shown.classList.remove("on"); el.classList.add("on"); shown = el; }
    var html = "<b>" + text(c.name || c.id) + "</b>" + (c.name ? text(c.id) + "<br>" : "") +
      "population " + Math.round(c.population) + ", lacking something: " + Math.round(c.gap) +
      (c.population > 0 ? " (" + pct(c.gap / c.population) + ")" : "") + "<br>";
    data.categories.forEach(function (cat, j) {
      var v = c.coverage[j];
      html += text(cat.name) + ": " + (v === null ? "-" : pct(v)) + (c.lacking.indexOf(j) >= 0 ? " (lacking)" : "");
      if (c.planned) {
        var p = c.planned.coverage[j];
        html += " &rarr; " + (p === null ? "-" : pct(p)) + (c.planned.lacking.indexOf(j) >= 0 ? " (lacking)" : "");
      }
      html += "<br>";
    });
    if (c.planned) html += "(today &rarr; " + text(stageLabel) + ")";
    tip.innerHTML = html;
    tip.hidden = false;
    var r = frame.getBoundingClientRect();
    var x = e.clientX - r.left + 12, y = e.clientY - r.top + 12;
    if (x + tip.offsetWidth > r.width) x = Math.max(0, x - tip.offsetWidth - 24);
    if (y + tip.offsetHeight > r.height) y = Math.max(0, y - tip.offsetHeight - 24);
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }

  mode.addEventListener("change", recolour);
  window.addEventListener("resize", drawScale);
  recolour();
  drawScale();
  document.body.setAttribute("data-map", "drawn " + shapes.length);
})();
