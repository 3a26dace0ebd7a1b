package tfjs

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// The npm nsfwjs package ships each model file as a browserify bundle whose
// single module body is `X.exports=<literal>`: model.min.js exports the
// model.json object as a JavaScript object literal (unquoted keys, !0/!1
// for true/false, numbers like .5), and group1-shardNofM.min.js exports
// the shard as a base64 string. We locate that assignment and parse the
// literal ourselves; nothing is evaluated.
var moduleExports = regexp.MustCompile(`\{1:\[function\([A-Za-z_$][\w$]*(?:,[A-Za-z_$][\w$]*)*\)\{([A-Za-z_$][\w$]*)\.exports=`)

// moduleLiteral returns the text that starts at the exported literal of
// the bundled JS module src.
func moduleLiteral(src []byte) ([]byte, error) {
	loc := moduleExports.FindIndex(src)
	if loc == nil {
		// Fall back to a plain `module.exports=` assignment of a literal.
		for _, pre := range []string{"module.exports=", "module.exports = ", "export default "} {
			if i := bytes.Index(src, []byte(pre)); i >= 0 {
				rest := bytes.TrimLeft(src[i+len(pre):], " \t\r\n")
				if len(rest) > 0 && (rest[0] == '{' || rest[0] == '"' || rest[0] == '\'') {
					return rest, nil
				}
			}
		}
		return nil, fmt.Errorf("no exported literal found")
	}
	return src[loc[1]:], nil
}

// ModuleJSON parses the object literal exported by a bundled JS module (as
// in nsfwjs's model.min.js) and returns it as JSON.
func ModuleJSON(src []byte) ([]byte, error) {
	lit, err := moduleLiteral(src)
	if err != nil {
		return nil, err
	}
	p := &jsParser{s: lit}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// ModuleBase64 decodes the base64 string literal exported by a bundled JS
// module (as in nsfwjs's group1-shardNofM.min.js).
func ModuleBase64(src []byte) ([]byte, error) {
	lit, err := moduleLiteral(src)
	if err != nil {
		return nil, err
	}
	if len(lit) == 0 || (lit[0] != '"' && lit[0] != '\'') {
		return nil, fmt.Errorf("exported value is not a string literal")
	}
	end := bytes.IndexByte(lit[1:], lit[0])
	if end < 0 {
		return nil, fmt.Errorf("unterminated string literal")
	}
	s := lit[1 : 1+end]
	out := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(out, s)
	if err != nil {
		return nil, fmt.Errorf("base64: %v", err)
	}
	return out[:n], nil
}

// maxDepth bounds literal nesting so hostile input cannot exhaust the stack.
const maxDepth = 256

// jsParser reads the JSON-like subset of JavaScript literals that minifiers
// emit: objects (bare or quoted keys), arrays, strings, numbers, true/false
// (also !0/!1), null, void 0 and undefined.
type jsParser struct {
	s []byte
	i int
}

func (p *jsParser) errorf(format string, args ...any) error {
	return fmt.Errorf("JS literal at byte %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *jsParser) skip() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

func (p *jsParser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, p.errorf("nested deeper than %d", maxDepth)
	}
	p.skip()
	if p.i >= len(p.s) {
		return nil, p.errorf("unexpected end")
	}
	c := p.s[p.i]
	switch {
	case c == '{':
		p.i++
		obj := map[string]any{}
		for {
			p.skip()
			if p.i < len(p.s) && p.s[p.i] == '}' {
				p.i++
				return obj, nil
			}
			key, err := p.key()
			if err != nil {
				return nil, err
			}
			p.skip()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return nil, p.errorf("want ':' after key %q", key)
			}
			p.i++
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			obj[key] = v
			p.skip()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == '}' {
				p.i++
				return obj, nil
			}
			return nil, p.errorf("want ',' or '}' in object")
		}
	case c == '[':
		p.i++
		arr := []any{}
		for {
			p.skip()
			if p.i < len(p.s) && p.s[p.i] == ']' {
				p.i++
				return arr, nil
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
			p.skip()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == ']' {
				p.i++
				return arr, nil
			}
			return nil, p.errorf("want ',' or ']' in array")
		}
	case c == '"' || c == '\'':
		return p.str()
	case c == '!':
		if p.i+1 < len(p.s) && (p.s[p.i+1] == '0' || p.s[p.i+1] == '1') {
			v := p.s[p.i+1] == '0'
			p.i += 2
			return v, nil
		}
		return nil, p.errorf("unexpected '!'")
	case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		id := p.ident()
		switch id {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null", "undefined":
			return nil, nil
		case "void":
			p.skip()
			if _, err := p.number(); err != nil {
				return nil, err
			}
			return nil, nil
		case "NaN", "Infinity":
			return nil, p.errorf("%s is not representable in JSON", id)
		}
		return nil, p.errorf("unexpected %q", string(c))
	}
}

func (p *jsParser) ident() string {
	st := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (p.i > st && c >= '0' && c <= '9') {
			p.i++
			continue
		}
		break
	}
	return string(p.s[st:p.i])
}

func (p *jsParser) key() (string, error) {
	if p.i < len(p.s) && (p.s[p.i] == '"' || p.s[p.i] == '\'') {
		return p.str()
	}
	if p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		st := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		return string(p.s[st:p.i]), nil
	}
	id := p.ident()
	if id == "" {
		return "", p.errorf("want an object key")
	}
	return id, nil
}

func (p *jsParser) number() (float64, error) {
	st := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+' {
			p.i++
			continue
		}
		break
	}
	txt := string(p.s[st:p.i])
	txt = strings.TrimPrefix(txt, "+")
	if strings.HasPrefix(txt, ".") {
		txt = "0" + txt
	} else if strings.HasPrefix(txt, "-.") {
		txt = "-0" + txt[1:]
	}
	f, err := strconv.ParseFloat(txt, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, p.errorf("bad number %q", string(p.s[st:p.i]))
	}
	return f, nil
}

func (p *jsParser) str() (string, error) {
	q := p.s[p.i]
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		if c == q {
			return b.String(), nil
		}
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if p.i >= len(p.s) {
			break
		}
		e := p.s[p.i]
		p.i++
		switch e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if p.i+4 > len(p.s) {
				return "", p.errorf("bad \\u escape")
			}
			r, err := strconv.ParseUint(string(p.s[p.i:p.i+4]), 16, 32)
			if err != nil {
				return "", p.errorf("bad \\u escape")
			}
			b.WriteRune(rune(r))
			p.i += 4
		default:
			b.WriteByte(e)
		}
	}
	return "", p.errorf("unterminated string")
}

// UnwrapNPMModule converts a directory of npm-bundled TF.js model files
// (model.min.js and group1-shardNofM.min.js, as shipped by nsfwjs) into a
// standard TF.js layers-model directory (model.json plus binary shards
// named as the manifest says) under dest, and returns dest. Load accepts
// the bundled directory directly, so this is only needed to hand the model
// to other tools.
func UnwrapNPMModule(dir, dest string) (string, error) {
	fs, err := openDir(dir)
	if err != nil {
		return "", err
	}
	mj, err := fs.modelJSON()
	if err != nil {
		return "", err
	}
	m, err := parseModelJSON(mj, fs.modelName())
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dest, "model.json"), mj, 0o644); err != nil {
		return "", err
	}
	for _, g := range m.WeightsManifest {
		for _, p := range g.Paths {
			b, err := fs.shard(p, 0)
			if err != nil {
				return "", err
			}
			if err := os.WriteFile(filepath.Join(dest, filepath.Base(p)), b, 0o644); err != nil {
				return "", err
			}
		}
	}
	return dest, nil
}
