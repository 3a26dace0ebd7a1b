package server

import (
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strings"
)

// indexTmpl is the page at /. html/template escapes every field. The
// table is rendered on the server (works without JavaScript); index.js then
// re-renders it from GET /api/v1/stores (same fields, same credentials: a
// cookie-less page sends no token, so this needs anonymous read or a
// reverse proxy adding the header) and marks <body data-api="ok">.
var indexTmpl = template.Must(template.New("index").Funcs(template.FuncMap{"bytes": humanBytes, "join": strings.Join}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>preconv stores</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}</style>
<script src="/static/index.js" defer></script>
</head><body>
<h1>preconv feature stores</h1>
<table id="stores">
<thead><tr><th>name</th><th>model</th><th>tap</th><th>dtype</th><th>feature shape</th><th>items</th><th>classes</th><th>size</th><th>created</th><th>pushed by</th><th>pushed at</th><th>version</th><th>spec digest</th></tr></thead>
<tbody>{{range .}}<tr class="store"><td class="name"><a href="/api/stores/{{.Name}}">{{.Name}}</a></td><td class="model">{{.Spec.Model}}</td><td class="tap">{{.Spec.Tap}}{{if .Spec.Pool}} ({{.Spec.Pool}} pool){{end}}</td><td>{{.Spec.DType}}</td><td>{{.Spec.FeatureShape}}</td><td class="items">{{.Items}}</td><td class="classes">{{join .Classes ", "}}</td><td class="size">{{bytes .DiskBytes}}</td><td>{{.Created.Format "2006-01-02 15:04:05Z07:00"}}</td><td class="pushed-by">{{.PushedBy}}</td><td class="pushed-at">{{if not .PushedAt.IsZero}}{{.PushedAt.Format "2006-01-02 15:04:05Z07:00"}}{{end}}</td><td class="version">{{.Version}}</td><td><code title="{{.SpecDigest}}">{{printf "%.12s" .SpecDigest}}</code></td></tr>
{{end}}</tbody></table>{{if not .}}<p id="empty">No stores yet.</p>{{end}}
<p>Zarr groups are at <code>/stores/NAME</code> (a version: <code>/stores/NAME@VERSION</code>); JSON at <code>/api/v1/stores</code>.</p>
</body></html>
`))

// indexJS re-renders the store table from the JSON API. Text goes in
// through textContent only (no HTML injection).
const indexJS = `"use strict";
function fmtBytes(n) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return i === 0 ? n + " B" : n.toFixed(1) + " " + u[i];
}
function fmtTime(s) {
  if (!s || s.startsWith("0001-")) return "";
  return new Date(s).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}
function cell(tr, cls, text) {
  const td = document.createElement("td"); if (cls) td.className = cls;
  td.textContent = text; tr.appendChild(td); return td;
}
async function render() {
  const r = await fetch("/api/v1/stores", {credentials: "same-origin"});
  if (!r.ok) { document.body.dataset.api = "error " + r.status; return; }
  const list = await r.json();
  const tb = document.querySelector("#stores tbody");
  tb.textContent = "";
  for (const s of list) {
    const tr = document.createElement("tr"); tr.className = "store";
    const a = document.createElement("a"); a.href = "/api/stores/" + encodeURIComponent(s.name); a.textContent = s.name;
    cell(tr, "name", "").appendChild(a);
    cell(tr, "model", s.spec.model);
    cell(tr, "tap", s.spec.tap + (s.spec.pool ? " (" + s.spec.pool + " pool)" : ""));
    cell(tr, "", s.spec.dtype);
    cell(tr, "", "[" + (s.spec.feature_shape || []).join(" ") + "]");
    cell(tr, "items", String(s.items));
    cell(tr, "classes", (s.classes || []).join(", "));
    cell(tr, "size", fmtBytes(s.disk_bytes));
    cell(tr, "", fmtTime(s.created));
    cell(tr, "pushed-by", s.pushed_by || "");
    cell(tr, "pushed-at", fmtTime(s.pushed_at));
    cell(tr, "version", s.version || "");
    const code = document.createElement("code"); code.title = s.spec_digest; code.textContent = s.spec_digest.slice(0, 12);
    cell(tr, "", "").appendChild(code);
    tb.appendChild(tr);
  }
  document.body.dataset.api = "ok";
  document.body.dataset.stores = String(list.length);
}
render().catch(e => { document.body.dataset.api = "error " + e; });
`

func humanBytes(n int64) string {
	const u = 1024
	if n < u {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n), 0
	for f >= u && i < 4 {
		f /= u
		i++
	}
	return fmt.Sprintf("%.1f %ciB", f, "KMGT"[i-1])
}

func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Stores()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'")
	return indexTmpl.Execute(w, list)
}

// handleIndexJS serves GET /static/index.js (no auth: it holds no data).
func (s *Server) handleIndexJS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-cache")
	io.WriteString(w, indexJS)
}
