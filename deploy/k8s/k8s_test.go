// Package k8s holds the Kubernetes manifests of a sharded extraction
// (extract-job.yaml, merge-job.yaml); this test checks them.
package k8s

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/preconv/preconv/internal/cli"
)

type obj = map[string]any

func load(t *testing.T, file string) obj {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var m obj
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return m
}

// get walks a path of map keys and list indices ("spec", "template", 0, …).
func get(t *testing.T, file string, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(obj)
			if !ok {
				t.Fatalf("%s: %v: not a mapping at %q", file, path, k)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("%s: %v: no item %d", file, path, k)
			}
			v = l[k]
		}
	}
	return v
}

func str(t *testing.T, file string, v any, path ...any) string {
	t.Helper()
	s, ok := get(t, file, v, path...).(string)
	if !ok {
		t.Fatalf("%s: %v is not a string", file, path)
	}
	return s
}

func integer(t *testing.T, file string, v any, path ...any) int {
	t.Helper()
	n, ok := get(t, file, v, path...).(int)
	if !ok {
		t.Fatalf("%s: %v is not an integer", file, path)
	}
	return n
}

func strs(t *testing.T, file string, v any, path ...any) []string {
	t.Helper()
	l, ok := get(t, file, v, path...).([]any)
	if !ok {
		t.Fatalf("%s: %v is not a list", file, path)
	}
	out := make([]string, len(l))
	for i, x := range l {
		s, ok := x.(string)
		if !ok {
			t.Fatalf("%s: %v[%d] = %v is not a string (quote numbers in args)", file, path, i, x)
		}
		out[i] = s
	}
	return out
}

// flagValue returns the value after --name in args.
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1], true
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// envOf maps a container's env names to their entries.
func envOf(t *testing.T, file string, c any) map[string]obj {
	t.Helper()
	out := map[string]obj{}
	l, _ := get(t, file, c, "env").([]any)
	for _, e := range l {
		m := e.(obj)
		out[m["name"].(string)] = m
	}
	return out
}

// checkContainer checks what both Jobs share: the preconv image and
// command, S3 credentials from the Secret, resources, and volume mounts that
// name declared volumes.
func checkContainer(t *testing.T, file string, job obj) (c obj, args []string) {
	t.Helper()
	pod := get(t, file, job, "spec", "template", "spec")
	if rp := str(t, file, pod, "restartPolicy"); rp != "OnFailure" && rp != "Never" {
		t.Errorf("%s: restartPolicy %q (a Job needs OnFailure or Never)", file, rp)
	}
	c = get(t, file, pod, "containers", 0).(obj)
	if cmd := strs(t, file, c, "command"); len(cmd) != 1 || cmd[0] != "preconv" {
		t.Errorf("%s: command %v, want [preconv]", file, cmd)
	}
	if img := str(t, file, c, "image"); !strings.Contains(img, "preconv") {
		t.Errorf("%s: image %q", file, img)
	}
	env := envOf(t, file, c)
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		ref, _ := get(t, file, env[k], "valueFrom", "secretKeyRef").(obj)
		if ref == nil || ref["name"] != "preconv-s3" {
			t.Errorf("%s: %s does not come from the Secret preconv-s3: %v", file, k, env[k])
		}
	}
	for _, k := range []string{"requests", "limits"} {
		r, _ := get(t, file, c, "resources", k).(obj)
		if r["cpu"] == nil || r["memory"] == nil {
			t.Errorf("%s: resources.%s lacks cpu or memory: %v", file, k, r)
		}
	}
	vols := map[string]bool{}
	if l, ok := get(t, file, pod, "volumes").([]any); ok {
		for _, v := range l {
			vols[v.(obj)["name"].(string)] = true
		}
	}
	if l, ok := c["volumeMounts"].([]any); ok {
		for _, m := range l {
			if n := m.(obj)["name"].(string); !vols[n] {
				t.Errorf("%s: volumeMount %q names no volume", file, n)
			}
		}
	}
	return c, strs(t, file, c, "args")
}

// preconvFlags returns the flags 'preconv CMD -h' documents.
func preconvFlags(t *testing.T, cmd ...string) string {
	t.Helper()
	var o, e bytes.Buffer
	cli.Run(context.Background(), append(cmd, "-h"), strings.NewReader(""), &o, &e)
	return o.String() + e.String()
}

func checkArgsKnown(t *testing.T, file string, args []string, help string) {
	t.Helper()
	for _, a := range args {
		if name, ok := strings.CutPrefix(a, "--"); ok {
			name, _, _ = strings.Cut(name, "=")
			if !strings.Contains(help, "-"+name+" ") && !strings.Contains(help, "-"+name+"\n") {
				t.Errorf("%s: flag --%s is not a flag of the command:\n%s", file, name, help)
			}
		}
	}
}

func TestExtractJob(t *testing.T) {
	const file = "extract-job.yaml"
	job := load(t, file)
	if str(t, file, job, "apiVersion") != "batch/v1" || str(t, file, job, "kind") != "Job" {
		t.Fatalf("%s: not a batch/v1 Job", file)
	}
	if m := str(t, file, job, "spec", "completionMode"); m != "Indexed" {
		t.Errorf("%s: completionMode %q, want Indexed", file, m)
	}
	n := integer(t, file, job, "spec", "completions")
	if p := integer(t, file, job, "spec", "parallelism"); p < 1 || p > n {
		t.Errorf("%s: parallelism %d outside 1..completions %d", file, p, n)
	}
	c, args := checkContainer(t, file, job)
	if len(args) == 0 || args[0] != "extract" {
		t.Fatalf("%s: args %v do not run 'preconv extract'", file, args)
	}
	checkArgsKnown(t, file, args[1:], preconvFlags(t, "extract"))
	shard, _ := flagValue(args, "--shard")
	m := regexp.MustCompile(`^\$\(JOB_COMPLETION_INDEX\)/(\d+)$`).FindStringSubmatch(shard)
	if m == nil {
		t.Fatalf("%s: --shard %q, want $(JOB_COMPLETION_INDEX)/N", file, shard)
	}
	if got, _ := strconv.Atoi(m[1]); got != n {
		t.Errorf("%s: --shard …/%d but completions %d: every index must be a shard", file, got, n)
	}
	ref, _ := get(t, file, envOf(t, file, c)["JOB_COMPLETION_INDEX"], "valueFrom", "fieldRef", "fieldPath").(string)
	if ref != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
		t.Errorf("%s: JOB_COMPLETION_INDEX env is %q, want the completion-index annotation (so $(…) expands)", file, ref)
	}
	out, _ := flagValue(args, "--out")
	if !strings.HasPrefix(out, "s3://") {
		t.Errorf("%s: --out %q, want an s3:// location every pod reaches", file, out)
	}

	merge := load(t, "merge-job.yaml")
	const mfile = "merge-job.yaml"
	if str(t, mfile, merge, "kind") != "Job" || get(t, mfile, merge, "spec", "completionMode") == "Indexed" {
		t.Errorf("%s: want a plain Job", mfile)
	}
	if integer(t, mfile, merge, "spec", "completions") != 1 {
		t.Errorf("%s: the merge runs once", mfile)
	}
	mc, margs := checkContainer(t, mfile, merge)
	if len(margs) < 3 || margs[0] != "store" || margs[1] != "merge" || margs[2] != out {
		t.Errorf("%s: args %v, want store merge %s", mfile, margs, out)
	}
	checkArgsKnown(t, mfile, margs[3:], preconvFlags(t, "store", "merge"))
	if of, ok := flagValue(margs, "--of"); ok && of != strconv.Itoa(n) {
		t.Errorf("%s: --of %s but the extract Job has %d shards", mfile, of, n)
	}
	if mc["image"] != c["image"] {
		t.Errorf("merge image %v != extract image %v", mc["image"], c["image"])
	}
	sec := load(t, "secret-example.yaml")
	if sec["kind"] != "Secret" || get(t, "secret-example.yaml", sec, "metadata", "name") != "preconv-s3" {
		t.Errorf("secret-example.yaml: not the Secret preconv-s3")
	}
	for _, k := range []string{"access-key-id", "secret-access-key"} {
		if get(t, "secret-example.yaml", sec, "stringData", k) == nil {
			t.Errorf("secret-example.yaml: no %s", k)
		}
	}
}

// fakeAPI serves just enough discovery for 'kubectl apply --dry-run=client'
// to map Job and Secret (no cluster needed); objects are never found.
func fakeAPI(t *testing.T) *httptest.Server {
	res := func(gv string, rs ...[3]string) any {
		var l []any
		for _, r := range rs {
			l = append(l, obj{"name": r[0], "singularName": r[1], "namespaced": true, "kind": r[2],
				"verbs": []string{"create", "delete", "get", "list", "patch", "update", "watch"}})
		}
		return obj{"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": l}
	}
	routes := map[string]any{
		"/api": obj{"kind": "APIVersions", "versions": []string{"v1"}, "serverAddressByClientCIDRs": []any{}},
		"/apis": obj{"kind": "APIGroupList", "apiVersion": "v1", "groups": []any{obj{"name": "batch",
			"versions":         []any{obj{"groupVersion": "batch/v1", "version": "v1"}},
			"preferredVersion": obj{"groupVersion": "batch/v1", "version": "v1"}}}},
		"/api/v1":        res("v1", [3]string{"secrets", "secret", "Secret"}),
		"/apis/batch/v1": res("batch/v1", [3]string{"jobs", "job", "Job"}),
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if v, ok := routes[r.URL.Path]; ok {
			json.NewEncoder(w).Encode(v)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"%s not found"}`, r.URL.Path)
	}))
}

// TestKubectlDryRun has kubectl itself parse and apply the manifests
// client-side (--dry-run=client) against a discovery-only fake API server.
func TestKubectlDryRun(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not installed (Debian: apt-get install kubernetes-client)")
	}
	srv := fakeAPI(t)
	defer srv.Close()
	for _, f := range []string{"extract-job.yaml", "merge-job.yaml", "secret-example.yaml"} {
		cmd := exec.Command(kubectl, "apply", "--dry-run=client", "--validate=false", "--server", srv.URL,
			"--namespace", "default", "-o", "json", "-f", f)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+os.DevNull)
		out, err := cmd.Output()
		if err != nil {
			stderr := ""
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("kubectl apply --dry-run=client -f %s: %v\n%s\n%s", f, err, out, stderr)
		}
		var got obj
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%s: kubectl printed %v:\n%s", f, err, out)
		}
		want := load(t, f)
		if got["kind"] != want["kind"] || get(t, f, got, "metadata", "name") != get(t, f, want, "metadata", "name") {
			t.Errorf("%s: kubectl made %v %v", f, got["kind"], got["metadata"])
		}
		if f == "extract-job.yaml" && get(t, f, got, "spec", "completionMode") != "Indexed" {
			t.Errorf("%s: kubectl lost completionMode: %v", f, got["spec"])
		}
	}
}
