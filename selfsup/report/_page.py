"""The style sheet and the script of the HTML report, inlined into every page.

Plain JavaScript, no framework and no network: the data come from the page's
``<script type="application/json" id="selfsup-data">`` block, every file name and label is put into
the page with ``textContent`` (never ``innerHTML``), thumbnails are ``data:`` URIs.
"""

from __future__ import annotations

__all__ = ["PAGE_SCRIPT", "PAGE_STYLE"]

PAGE_STYLE = """
*{box-sizing:border-box}
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 24px 40px;color:#222;background:#fff}
h1{font-size:22px;margin:18px 0 4px}
h2{font-size:17px;margin:22px 0 8px}
[hidden]{display:none!important}
.stats{margin:2px 0;color:#444}
.notes{color:#8a4b00;margin:6px 0;padding-left:20px}
#controls{display:flex;gap:16px;align-items:center;margin:10px 0 6px;flex-wrap:wrap}
.hint{color:#777;font-size:12px}
#legend{display:flex;flex-wrap:wrap;gap:4px 14px;margin:4px 0 8px;font-size:12px;min-height:18px}
.swatch{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:5px;vertical-align:middle}
#map-row{display:flex;gap:16px;align-items:flex-start}
#map-wrap{flex:1 1 auto;min-width:300px;border:1px solid #ddd;border-radius:4px}
#map{display:block;width:100%;height:620px;cursor:crosshair}
#neighbours{flex:0 0 330px;max-height:640px;overflow-y:auto;border:1px solid #ddd;border-radius:4px;padding:8px 10px}
#neighbours h2{margin:2px 0 6px;font-size:15px}
#nb-list,#nb-query{list-style:none;margin:0;padding:0}
.card{display:flex;gap:8px;align-items:center;padding:3px;border-radius:3px}
.card.drawn{cursor:pointer}
.card.drawn:hover{background:#eef4fb}
.card img,.noimg{width:48px;height:48px;object-fit:contain;background:#f2f2f2;flex:0 0 48px;image-rendering:auto}
.noimg{display:flex;align-items:center;justify-content:center;font-size:10px;color:#999;text-align:center}
.card .name{word-break:break-all;font-size:12px}
.card .sim{color:#666;font-size:11px;white-space:nowrap}
.query{border:1px solid #333;margin-bottom:6px}
#tooltip{position:fixed;z-index:10;pointer-events:none;background:#fff;border:1px solid #999;border-radius:4px;padding:6px;max-width:260px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
#tooltip img{display:block;max-width:128px;max-height:128px;width:auto;height:auto;min-width:64px;image-rendering:auto;margin-bottom:4px}
#tt-name{font-size:12px;word-break:break-all}
#tt-meta{font-size:11px;color:#666}
.groups{display:flex;flex-direction:column;gap:10px}
.group{border:1px solid #ddd;border-radius:4px;padding:6px 8px}
.group h3{font-size:13px;margin:0 0 4px}
.group .cards{display:flex;flex-wrap:wrap;gap:4px 10px;list-style:none;margin:0;padding:0}
.group .card{max-width:260px}
.charts{display:flex;flex-wrap:wrap;gap:18px}
.previews img{max-width:100%;border:1px solid #ddd;margin:6px 0}
table.summary{border-collapse:collapse;font-size:13px;margin:8px 0}
table.summary td{border-bottom:1px solid #eee;padding:2px 12px 2px 0}
"""

PAGE_SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("selfsup-data").textContent);
  var items = data.items;
  var n = data.points;
  var k = data.k;
  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
    "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5"];
  var PAD = 14, CELL = 12, HIT = 8;
  var canvas = document.getElementById("map");
  var ctx = canvas.getContext("2d");
  var tooltip = document.getElementById("tooltip");
  var ttImg = document.getElementById("tt-img");
  var ttName = document.getElementById("tt-name");
  var ttMeta = document.getElementById("tt-meta");
  var colorSelect = document.getElementById("color-by");
  var legend = document.getElementById("legend");
  var nbQuery = document.getElementById("nb-query");
  var nbList = document.getElementById("nb-list");
  var nbHint = document.getElementById("nb-hint");
  var state = {mode: colorSelect.value, scale: 1, ox: 0, oy: 0, hovered: -1, focused: -1,
    neighbours: [], width: 0, height: 0};
  var px = new Float32Array(n), py = new Float32Array(n);
  var grid = [], gridCols = 0, gridRows = 0;
  var order = [];
  (function () {
    var rest = [], chosen = [];
    for (var i = 0; i < n; i++) { (items.selected[i] ? chosen : rest).push(i); }
    order = rest.concat(chosen);
  })();

  function thumbUri(item) {
    var t = items.thumb[item];
    return t >= 0 ? "data:image/jpeg;base64," + data.thumbs[t] : null;
  }
  function labelText(item) {
    var label = items.label[item];
    return label >= 0 ? data.labelNames[label] : "no label";
  }
  function colorOf(i) {
    if (state.mode === "cluster" && items.cluster) {
      return items.cluster[i] >= 0 ? PALETTE[items.cluster[i] % PALETTE.length] : "#999";
    }
    if (state.mode === "selection") { return items.selected[i] ? "#d62728" : "#b8b8b8"; }
    var label = items.label[i];
    return label >= 0 ? PALETTE[label % PALETTE.length] : "#999";
  }
  function frame() {
    var side = Math.max(10, Math.min(state.width, state.height) - 2 * PAD);
    return {side: side, x0: (state.width - side) / 2, y0: (state.height - side) / 2};
  }
  function place() {
    var f = frame();
    gridCols = Math.ceil(state.width / CELL) + 1;
    gridRows = Math.ceil(state.height / CELL) + 1;
    grid = new Array(gridCols * gridRows);
    for (var i = 0; i < n; i++) {
      px[i] = f.x0 + f.side * (state.scale * data.x[i] + state.ox);
      py[i] = f.y0 + f.side * (state.scale * (1 - data.y[i]) + state.oy);
      if (px[i] < 0 || py[i] < 0 || px[i] > state.width || py[i] > state.height) { continue; }
      var cell = Math.floor(py[i] / CELL) * gridCols + Math.floor(px[i] / CELL);
      (grid[cell] || (grid[cell] = [])).push(i);
    }
  }
  function resize() {
    var ratio = window.devicePixelRatio || 1;
    state.width = canvas.clientWidth;
    state.height = canvas.clientHeight;
    canvas.width = Math.round(state.width * ratio);
    canvas.height = Math.round(state.height * ratio);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    place();
    draw();
  }
  function ring(i, radius, color, width) {
    ctx.beginPath();
    ctx.arc(px[i], py[i], radius, 0, 2 * Math.PI);
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.stroke();
  }
  function draw() {
    ctx.clearRect(0, 0, state.width, state.height);
    for (var o = 0; o < order.length; o++) {
      var i = order[o];
      ctx.fillStyle = colorOf(i);
      if (items.selected[i]) {
        ctx.beginPath();
        ctx.arc(px[i], py[i], 4, 0, 2 * Math.PI);
        ctx.fill();
        ctx.strokeStyle = "#000";
        ctx.lineWidth = 1;
        ctx.stroke();
      } else {
        ctx.fillRect(px[i] - 1.5, py[i] - 1.5, 3, 3);
      }
    }
    for (var j = 0; j < state.neighbours.length; j++) {
      if (state.neighbours[j] < n) { ring(state.neighbours[j], 6, "#ff7f0e", 2); }
    }
    if (state.focused >= 0) { ring(state.focused, 8, "#000", 2.5); }
    if (state.hovered >= 0) { ring(state.hovered, 6, "#000", 1); }
  }
  function pointAt(x, y) {
    var cx = Math.floor(x / CELL), cy = Math.floor(y / CELL), best = -1, bestD = HIT * HIT;
    for (var gy = cy - 1; gy <= cy + 1; gy++) {
      for (var gx = cx - 1; gx <= cx + 1; gx++) {
        if (gx < 0 || gy < 0 || gx >= gridCols || gy >= gridRows) { continue; }
        var cell = grid[gy * gridCols + gx];
        if (!cell) { continue; }
        for (var c = 0; c < cell.length; c++) {
          var i = cell[c], dx = px[i] - x, dy = py[i] - y, d = dx * dx + dy * dy;
          if (d < bestD || (d === bestD && items.selected[i])) { best = i; bestD = d; }
        }
      }
    }
    return best;
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function thumbNode(item) {
    var uri = thumbUri(item);
    if (uri === null) { return el("div", "noimg", "no thumbnail"); }
    var img = el("img");
    img.src = uri;
    img.alt = items.name[item];
    return img;
  }
  function card(item, detail) {
    var node = el("li", "card");
    node.appendChild(thumbNode(item));
    var text = el("div");
    text.appendChild(el("div", "name", items.name[item]));
    text.appendChild(el("div", "sim", detail));
    node.appendChild(text);
    if (item < n) {
      node.classList.add("drawn");
      node.addEventListener("click", function () { focus(item); });
    }
    return node;
  }
  function describe(item) {
    var parts = [labelText(item)];
    if (items.cluster && items.cluster[item] >= 0) { parts.push("cluster " + items.cluster[item]); }
    if (items.selected[item]) { parts.push("selected"); }
    if (item >= n) { parts.push("not drawn"); }
    return parts.join(" \u00b7 ");
  }
  function focus(i) {
    state.focused = i;
    state.neighbours = [];
    clear(nbQuery);
    clear(nbList);
    nbHint.hidden = i >= 0;
    if (i >= 0) {
      var query = card(i, describe(i));
      query.classList.add("query");
      nbQuery.appendChild(query);
      for (var j = 0; j < k; j++) {
        var item = data.neighbours[i * k + j];
        state.neighbours.push(item);
        nbList.appendChild(card(item, "cos " + data.similarity[i * k + j].toFixed(3) +
          " \u00b7 " + describe(item)));
      }
    }
    draw();
  }
  function showTooltip(i, clientX, clientY) {
    var uri = thumbUri(i);
    ttImg.hidden = uri === null;
    if (uri !== null) { ttImg.src = uri; }
    ttName.textContent = items.name[i];
    ttMeta.textContent = describe(i);
    tooltip.hidden = false;
    var box = tooltip.getBoundingClientRect();
    var left = clientX + 14, top = clientY + 14;
    if (left + box.width > window.innerWidth) { left = clientX - box.width - 14; }
    if (top + box.height > window.innerHeight) { top = clientY - box.height - 14; }
    tooltip.style.left = Math.max(0, left) + "px";
    tooltip.style.top = Math.max(0, top) + "px";
  }
  function hover(i, clientX, clientY) {
    if (i !== state.hovered) { state.hovered = i; draw(); }
    if (i >= 0) { showTooltip(i, clientX, clientY); } else { tooltip.hidden = true; }
  }
  function buildLegend() {
    clear(legend);
    var entries = [];
    if (state.mode === "selection") {
      entries = [["#d62728", "selected"], ["#b8b8b8", "not selected"]];
    } else if (state.mode === "cluster" && items.cluster) {
      for (var c = 0; c < data.numClusters; c++) { entries.push([PALETTE[c % PALETTE.length], "cluster " + c]); }
    } else {
      for (var l = 0; l < data.labelNames.length; l++) {
        entries.push([PALETTE[l % PALETTE.length], data.labelNames[l]]);
      }
    }
    var shown = Math.min(entries.length, 40);
    for (var e = 0; e < shown; e++) {
      var item = el("span");
      var swatch = el("span", "swatch");
      swatch.style.background = entries[e][0];
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(entries[e][1]));
      legend.appendChild(item);
    }
    if (entries.length > shown) { legend.appendChild(el("span", "", "+" + (entries.length - shown) + " more")); }
  }
  function setColorBy(mode) {
    state.mode = mode;
    colorSelect.value = mode;
    buildLegend();
    draw();
  }
  function buildGroups() {
    var box = document.getElementById("groups");
    if (!box) { return; }
    for (var g = 0; g < data.groups.length; g++) {
      var group = data.groups[g];
      var node = el("div", "group");
      node.appendChild(el("h3", "", "Group of " + group.size + " images" +
        (group.members.length < group.size ? " (showing " + group.members.length + ")" : "")));
      var cards = el("ul", "cards");
      for (var m = 0; m < group.members.length; m++) { cards.appendChild(card(group.members[m], describe(group.members[m]))); }
      node.appendChild(cards);
      box.appendChild(node);
    }
  }

  var drag = null;
  canvas.addEventListener("mousedown", function (event) {
    drag = {x: event.clientX, y: event.clientY, ox: state.ox, oy: state.oy, moved: false};
  });
  window.addEventListener("mouseup", function (event) {
    if (drag === null) { return; }
    var wasClick = !drag.moved && event.target === canvas;
    drag = null;
    if (wasClick) {
      var rect = canvas.getBoundingClientRect();
      var i = pointAt(event.clientX - rect.left, event.clientY - rect.top);
      if (i >= 0) { focus(i); }
    }
  });
  canvas.addEventListener("mousemove", function (event) {
    var rect = canvas.getBoundingClientRect();
    if (drag !== null) {
      var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; }
      if (drag.moved) {
        var side = frame().side;
        state.ox = drag.ox + dx / side;
        state.oy = drag.oy + dy / side;
        tooltip.hidden = true;
        place();
        draw();
        return;
      }
    }
    hover(pointAt(event.clientX - rect.left, event.clientY - rect.top), event.clientX, event.clientY);
  });
  canvas.addEventListener("mouseleave", function () { hover(-1, 0, 0); });
  canvas.addEventListener("wheel", function (event) {
    event.preventDefault();
    var rect = canvas.getBoundingClientRect();
    var f = frame();
    var mx = (event.clientX - rect.left - f.x0) / f.side, my = (event.clientY - rect.top - f.y0) / f.side;
    var factor = event.deltaY < 0 ? 1.25 : 0.8;
    var scale = Math.min(200, Math.max(0.5, state.scale * factor));
    state.ox = mx - (mx - state.ox) * scale / state.scale;
    state.oy = my - (my - state.oy) * scale / state.scale;
    state.scale = scale;
    place();
    draw();
  }, {passive: false});
  document.getElementById("reset-view").addEventListener("click", function () {
    state.scale = 1; state.ox = 0; state.oy = 0;
    place();
    draw();
  });
  colorSelect.addEventListener("change", function () { setColorBy(colorSelect.value); });
  window.addEventListener("resize", resize);

  buildLegend();
  buildGroups();
  resize();
  canvas.setAttribute("data-point-count", String(n));
  window.selfsupReport = {
    pointCount: n,
    total: data.total,
    thumbnailCount: data.thumbs.length,
    state: state,
    itemName: function (i) { return items.name[i]; },
    screenPosition: function (i) { return [px[i], py[i]]; },
    pointAt: pointAt,
    focus: focus,
    setColorBy: setColorBy,
    ready: true
  };
})();
"""
