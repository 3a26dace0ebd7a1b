package server

import (
	"fmt"
	"html/template"
	"net/http"
)

// indexTmpl is the page at /. html/template escapes every field.
var indexTmpl = template.Must(template.New("index").Funcs(template.FuncMap{"bytes": humanBytes}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>preconv stores</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}</style>
</head><body>
<h1>preconv feature stores</h1>
{{if .}}<table id="stores">
<tr><th>name</th><th>model</th><th>tap</th><th>dtype</th><th>feature shape</th><th>items</th><th>classes</th><th>size</th><th>created</th><th>spec digest</th></tr>
{{range .}}<tr class="store"><td><a href="/api/stores/{{.Name}}">{{.Name}}</a></td><td>{{.Spec.Model}}</td><td>{{.Spec.Tap}}{{if .Spec.Pool}} ({{.Spec.Pool}} pool){{end}}</td><td>{{.Spec.DType}}</td><td>{{.Spec.FeatureShape}}</td><td>{{.Items}}</td><td>{{len .Classes}}</td><td>{{bytes .DiskBytes}}</td><td>{{.Created.Format "2006-01-02 15:04:05Z07:00"}}</td><td><code title="{{.SpecDigest}}">{{printf "%.12s" .SpecDigest}}</code></td></tr>
{{end}}</table>{{else}}<p>No stores yet.</p>{{end}}
<p>Zarr groups are at <code>/stores/NAME</code>; JSON at <code>/api/stores</code>.</p>
</body></html>
`))

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
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	return indexTmpl.Execute(w, list)
}
