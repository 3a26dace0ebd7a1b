package torch

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// allowedGlobals are the only "module name" pairs a state-dict pickle may
// name. Everything else is refused before unpickling.
var allowedGlobals = map[string]bool{
	"collections OrderedDict":         true,
	"torch._utils _rebuild_tensor_v2": true,
	"torch._utils _rebuild_tensor":    true,
	"torch._utils _rebuild_parameter": true,
	"torch FloatStorage":              true,
	"torch HalfStorage":               true,
	"torch BFloat16Storage":           true,
	"torch DoubleStorage":             true,
	"torch LongStorage":               true,
	"torch IntStorage":                true,
	"torch ShortStorage":              true,
	"torch CharStorage":               true,
	"torch ByteStorage":               true,
	"torch BoolStorage":               true,
}

// scanPickle walks one pickle at the start of p without evaluating it. It
// checks every opcode is known, every length-prefixed argument fits in p,
// and every GLOBAL is allowed. It returns the pickle's length (through
// STOP). This bounds all allocations gopickle makes from header numbers.
func scanPickle(p []byte) (int, error) {
	i := 0
	need := func(n uint64) error {
		if n > uint64(len(p)-i) {
			return fmt.Errorf("opcode at byte %d needs %d bytes, %d left: %w", i, n, len(p)-i, ErrFormat)
		}
		return nil
	}
	line := func() ([]byte, error) {
		j := bytes.IndexByte(p[i:], '\n')
		if j < 0 {
			return nil, fmt.Errorf("unterminated line at byte %d: %w", i, ErrFormat)
		}
		l := p[i : i+j]
		i += j + 1
		return l, nil
	}
	for i < len(p) {
		op := p[i]
		i++
		var fixed int
		var lenBytes int
		switch op {
		case '(', '.', '0', '1', '2', 'N', 'Q', 'R', 'a', 'b', 'd', '}', 'e', 'l', ']', 'o', 's', 't', ')', 'u',
			0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98:
			if op == '.' {
				return i, nil
			}
			if op == 0x92 || op == 0x93 || op == 0x97 || op == 0x98 || op == 'o' {
				// STACK_GLOBAL is resolved through the whitelisting class
				// resolver; NEWOBJ_EX, OBJ and buffers are never in state dicts.
				if op != 0x93 {
					return 0, fmt.Errorf("pickle opcode 0x%02x at byte %d is not used by state dicts: %w", op, i-1, ErrForbidden)
				}
			}
			continue
		case 'K', 'q', 'h', 0x80, 0x82:
			fixed = 1
		case 'M', 0x83:
			fixed = 2
		case 'J', 'r', 'j', 0x84:
			fixed = 4
		case 'G', 0x95:
			fixed = 8
		case 0x8a, 'U', 'C', 0x8c:
			lenBytes = 1
		case 'T', 'X', 'B', 0x8b:
			lenBytes = 4
		case 0x8d, 0x8e, 0x96:
			lenBytes = 8
		case 'I', 'L', 'S', 'V', 'F', 'p', 'g', 'P':
			if _, err := line(); err != nil {
				return 0, err
			}
			continue
		case 'c', 'i':
			mod, err := line()
			if err != nil {
				return 0, err
			}
			name, err := line()
			if err != nil {
				return 0, err
			}
			g := string(mod) + " " + string(name)
			if op == 'i' || !allowedGlobals[g] {
				return 0, fmt.Errorf("pickle global %s.%s refused (only tensor reconstruction is allowed): %w", mod, name, ErrForbidden)
			}
			continue
		default:
			return 0, fmt.Errorf("unknown pickle opcode 0x%02x at byte %d: %w", op, i-1, ErrFormat)
		}
		if fixed > 0 {
			if err := need(uint64(fixed)); err != nil {
				return 0, err
			}
			if op == 0x95 { // FRAME: the size must fit in what is left
				if err := need(8 + binary.LittleEndian.Uint64(p[i:])); err != nil {
					return 0, err
				}
			}
			i += fixed
			continue
		}
		if err := need(uint64(lenBytes)); err != nil {
			return 0, err
		}
		var n uint64
		switch lenBytes {
		case 1:
			n = uint64(p[i])
		case 4:
			n = uint64(binary.LittleEndian.Uint32(p[i:]))
			if op == 0x8b && int32(n) < 0 {
				return 0, fmt.Errorf("negative LONG4 length at byte %d: %w", i, ErrFormat)
			}
		case 8:
			n = binary.LittleEndian.Uint64(p[i:])
		}
		i += lenBytes
		if err := need(n); err != nil {
			return 0, err
		}
		i += int(n)
	}
	return 0, fmt.Errorf("pickle has no STOP opcode: %w", ErrFormat)
}
