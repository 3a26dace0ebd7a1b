package store

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// crashItems is the item list of crash trial variant v: variant 1 adds,
// removes and reorders items relative to variant 0.
func crashItems(v int) []ItemRef {
	items := testItems(48)
	if v == 1 {
		items = slices.Delete(items, 3, 9)
		items = append(items, testItems(56)[48:]...)
		slices.Reverse(items)
	}
	return items
}

var crashSpec = testSpec("f16", 16, 4)

// TestCrashChild is the process that the crash test kills; it only runs when
// STORE_CRASH_DIR is set.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("STORE_CRASH_DIR")
	if dir == "" {
		t.Skip("helper process for TestCrashResume")
	}
	v, _ := strconv.Atoi(os.Getenv("STORE_CRASH_VARIANT"))
	items := crashItems(v)
	w, plan, err := Prepare(t.Context(), dir, crashSpec, []string{"a", "b", "c"}, items, WithChunkRows(4))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// One item per Put, out of order, with a pause standing in for the CNN,
	// so kills land all over the run.
	todo := slices.Clone(plan.Todo)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(todo), func(i, j int) { todo[i], todo[j] = todo[j], todo[i] })
	for _, p := range todo {
		time.Sleep(time.Millisecond)
		if err := w.Put([]int{p}, featuresFor(items[p].Key, 64)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

// runChild runs TestCrashChild on dir and SIGKILLs it after delay (0: let it
// finish). It reports whether the child finished on its own.
func runChild(t *testing.T, dir string, variant int, delay time.Duration) bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "STORE_CRASH_DIR="+dir, "STORE_CRASH_VARIANT="+strconv.Itoa(variant))
	out, _ := os.CreateTemp(t.TempDir(), "child")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if delay > 0 {
		select {
		case err := <-done:
			if err != nil {
				b, _ := os.ReadFile(out.Name())
				t.Fatalf("child failed: %v\n%s", err, b)
			}
			return true
		case <-time.After(delay):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			return false
		}
	}
	if err := <-done; err != nil {
		b, _ := os.ReadFile(out.Name())
		t.Fatalf("child failed: %v\n%s", err, b)
	}
	return true
}

// TestCrashResume kills an extraction with SIGKILL at random points (3 killed
// trials, 24 with PRECONV_HEAVY=1; trials whose child finished first do not count). After each kill, Prepare must plan exactly the
// items of chunks that are not intact on disk; after the rerun, every item
// must equal a clean run's values, with nothing duplicated or lost. Half the
// trials start from a committed store with a different item list, so the
// kill can land while chunks are set aside and copied into the new layout.
func TestCrashResume(t *testing.T) {
	trials := 3
	if os.Getenv("PRECONV_HEAVY") == "1" {
		trials = 24
	}
	// Time a clean run to spread the kill points over it.
	start := time.Now()
	runChild(t, t.TempDir(), 0, 0)
	clean := time.Since(start)
	t.Logf("clean child run: %v", clean)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	killed := 0
	for trial := 0; killed < trials && trial < 4*trials; trial++ {
		dir := t.TempDir()
		fromOld := trial%2 == 1
		if fromOld {
			extract(t, dir, crashSpec, crashItems(0), nil, WithChunkRows(4))
		}
		variant := 0
		if fromOld {
			variant = 1
		}
		items := crashItems(variant)
		kills := 0
		for k := 0; k < 1+rng.IntN(3); k++ {
			delay := time.Duration(rng.Int64N(int64(clean)*6/5)) + time.Millisecond
			if runChild(t, dir, variant, delay) {
				break
			}
			kills++
		}
		if !fromOld && kills > 0 {
			checkResumePlan(t, dir, items)
		}
		runChild(t, dir, variant, 0)
		checkStore(t, dir, items, "f16", nil)
		if rep, err := Verify(dir); err != nil || !rep.OK() {
			t.Fatalf("trial %d: verify %+v %v", trial, rep, err)
		}
		stash, _ := os.ReadDir(filepath.Join(dir, ".preconv", "old"))
		feats, _ := os.ReadDir(filepath.Join(dir, "features"))
		if len(stash) != 0 || len(feats) != (len(items)+3)/4+1 {
			t.Fatalf("trial %d: %d files left aside, %d files in features/", trial, len(stash), len(feats))
		}
		t.Logf("trial %d (from old layout %v): %d kills", trial, fromOld, kills)
		if kills > 0 {
			killed++
		}
	}
	if killed < trials {
		t.Fatalf("only %d trials were killed before finishing, want %d", killed, trials)
	}
}

// checkResumePlan checks, from the files on disk, that Prepare plans exactly
// the items of chunks without an intact chunk file + index entry.
func checkResumePlan(t *testing.T, dir string, items []ItemRef) {
	t.Helper()
	var want []int
	for c := 0; c*4 < len(items); c++ {
		ci, err := readChunkInfo(chunkInfoPath(dir, c))
		ok := err == nil
		if ok {
			_, err = checkChunk(dir, ci)
			ok = err == nil
		}
		for p := c * 4; p < min(len(items), c*4+4); p++ {
			if !ok || ci.Keys[p-c*4] != items[p].Key {
				want = append(want, p)
			}
		}
	}
	w, plan, err := Prepare(t.Context(), dir, crashSpec, []string{"a", "b", "c"}, items, WithChunkRows(4))
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if !slices.Equal(plan.Todo, want) {
		t.Fatalf("after kill: todo %v, want %v (reasons %q)", plan.Todo, want, plan.Reasons)
	}
}
