package cli

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
)

// beamBinary is the separate binary of the Apache Beam pipeline (module
// beam/ of this repository), kept apart so the Beam SDK's dependencies stay
// out of preconv.
const beamBinary = "preconv-beam"

func init() {
	c := &Command{Name: "beam extract", Short: "run the sharded extraction as an Apache Beam pipeline (preconv-beam)",
		Usage: `Usage: preconv beam extract --model M --data DIR --out STORE --shards N [beam flags]

Runs 'preconv-beam extract' with the same arguments: an Apache Beam pipeline
(Go SDK) that lists the dataset, extracts N shards in parallel (one DoFn
loads the backbone once per worker) and merges them into STORE. It runs
in-process on Beam's Prism runner by default, or on Dataflow, Flink or Spark
(--runner=dataflow|universal, see beam/README.md).

preconv-beam is a separate binary so that the Beam SDK's dependencies stay
out of preconv: build it with
  (cd beam && go build -o "$(go env GOPATH)/bin/preconv-beam" ./cmd/preconv-beam)
and put it on PATH. Without it, use 'preconv extract --shard i/N' on each
worker and 'preconv store merge STORE' (deploy/k8s has a Kubernetes Job).`}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		for _, a := range args {
			if a == "-h" || a == "-help" || a == "--help" {
				fmt.Fprintln(env.Stderr, c.Usage)
				return nil
			}
		}
		path, err := exec.LookPath(beamBinary)
		if err != nil {
			return &exitError{code: ExitFailure, err: fmt.Errorf("%s is not on PATH; build it with (cd beam && go build -o \"$(go env GOPATH)/bin/%s\" ./cmd/%s), or see 'preconv beam extract -h'",
				beamBinary, beamBinary, beamBinary)}
		}
		cmd := exec.CommandContext(ctx, path, append([]string{"extract"}, args...)...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = env.Stdin, env.Stdout, env.Stderr
		if err := cmd.Run(); err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return &exitError{code: ee.ExitCode(), err: fmt.Errorf("%s extract: %w", beamBinary, err)}
			}
			return err
		}
		return nil
	}
	register(c)
}
