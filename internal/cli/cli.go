// Package cli implements the preconv command line. Each subcommand lives in
// its own file, registers itself in init with register, parses its own flags
// (flag.ContinueOnError) and calls into the library packages; no logic that a
// library user would want lives here.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Env is what a subcommand may touch of the outside world.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Command is one subcommand. Name may contain a space for nested commands
// ("store verify", "bench engine").
type Command struct {
	Name  string
	Short string // one line for the command list
	Usage string // full help text, printed for -h
	Run   func(ctx context.Context, env *Env, args []string) error
}

var commands = map[string]*Command{}

// register adds a command; called from init functions only.
func register(c *Command) {
	if _, dup := commands[c.Name]; dup {
		panic("cli: duplicate command " + c.Name)
	}
	commands[c.Name] = c
}

// Exit codes carried by errors.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
	ExitPartial = 3 // finished, but some items failed
)

// exitError carries an exit code with a message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }
func (e *exitError) ExitCode() int { return e.code }

// usageError returns an error that exits with code 2.
func usageError(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// partialError returns an error that exits with code 3.
func partialError(format string, args ...any) error {
	return &exitError{code: ExitPartial, err: fmt.Errorf(format, args...)}
}

// ExitCode maps an error returned by Run to a process exit status.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ec interface{ ExitCode() int }
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	return ExitFailure
}

// Run executes the command line args (without the program name).
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	env := &Env{Stdin: stdin, Stdout: stdout, Stderr: stderr}
	if len(args) >= 2 && args[0] == "help" {
		return Run(ctx, append(args[1:], "-h"), stdin, stdout, stderr)
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printCommands(stdout)
		if len(args) == 0 {
			return usageError("")
		}
		return nil
	}
	// Longest match first: "store verify" before "store".
	if len(args) >= 2 {
		if c, ok := commands[args[0]+" "+args[1]]; ok {
			return runCommand(ctx, env, c, args[2:])
		}
	}
	if c, ok := commands[args[0]]; ok {
		return runCommand(ctx, env, c, args[1:])
	}
	var subs []string
	for name := range commands {
		if strings.HasPrefix(name, args[0]+" ") {
			subs = append(subs, strings.TrimPrefix(name, args[0]+" "))
		}
	}
	if len(subs) > 0 {
		sort.Strings(subs)
		return usageError("%s needs a subcommand: %s (try 'preconv %s %s -h')", args[0], strings.Join(subs, ", "), args[0], subs[0])
	}
	return usageError("unknown command %q (run 'preconv help' for the list)", args[0])
}

func runCommand(ctx context.Context, env *Env, c *Command, args []string) error {
	err := c.Run(ctx, env, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func printCommands(w io.Writer) {
	fmt.Fprintln(w, "preconv: pretrained CNN features, computed once, cached, and used to train heads fast.")
	fmt.Fprintln(w, "\nUsage: preconv COMMAND [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-16s %s\n", n, commands[n].Short)
	}
	fmt.Fprintln(w, "\nRun 'preconv COMMAND -h' for a command's flags.")
}

// newFlags returns a flag set for command c that writes its usage to env.Stderr.
func newFlags(env *Env, c *Command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, strings.TrimSpace(c.Usage))
		fmt.Fprintln(env.Stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and turns flag errors into usage errors. It allows
// flags after positional arguments ("predict IMAGE --json").
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &exitError{code: ExitUsage, err: err}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
