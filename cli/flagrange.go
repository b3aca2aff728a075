package cli

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/groupvit-edge/groupvit-edge/models"
	"github.com/groupvit-edge/groupvit-edge/pipeline"
)

// flagRange is the allowed range of a numeric flag: [lo, hi], plus 0 when
// zero is set (0 then means "automatic" or "the model's own"). list marks
// a string flag holding comma-separated numbers (bench --threads 1,2).
type flagRange struct {
	lo, hi float64
	zero   bool
	list   bool
}

// maxThreads bounds --threads: past the cores of any edge board, more
// threads only cost memory and scheduling.
const maxThreads = 256

// flagRanges holds the range of every numeric flag of every command, by
// flag name: parse checks each flag a command defines against it, and
// refuses a numeric flag missing here, so a new flag cannot go unchecked
// (TestEveryNumericFlagHasARange runs every command). One table rather
// than checks in each command: the rules are in one place, the messages
// are alike, and NaN or a negative count can never slip through a
// forgotten if.
var flagRanges = map[string]flagRange{
	"threads":          {lo: 1, hi: maxThreads, zero: true, list: true},
	"size":             {lo: 16, hi: models.MaxImageSize, zero: true},
	"bg-thresh":        {lo: 0, hi: 1},
	"int8-text-cosine": {lo: 0, hi: 1},
	"topk":             {lo: 0, hi: pipeline.MaxLabels},
	"refine":           {lo: 0, hi: maxRefine},
	"crop":             {lo: 32, hi: models.MaxImageSize, zero: true},
	"stride":           {lo: 8, hi: models.MaxImageSize, zero: true},
	"alpha":            {lo: 0, hi: 1},
	"fps":              {lo: 0, hi: 1000},
	"max-fps":          {lo: 0, hi: 1000},
	"calib-count":      {lo: 1, hi: 1024},
	"runs":             {lo: 1, hi: 1000},
	"rounds":           {lo: 1, hi: 100},
	"images":           {lo: 1, hi: 100000},
	"warmup":           {lo: 0, hi: 100},
	"n":                {lo: 0, hi: 1 << 20},
	"seed":             {lo: math.Inf(-1), hi: math.Inf(1)},
}

// numericTypes are the pflag value types checked against flagRanges.
var numericTypes = map[string]bool{
	"int": true, "int8": true, "int16": true, "int32": true, "int64": true,
	"uint": true, "uint8": true, "uint16": true, "uint32": true, "uint64": true,
	"float32": true, "float64": true,
}

// rangesCover reports a numeric flag of fs that flagRanges lacks. parse
// calls it before parsing, so even `--help` finds a gap.
func rangesCover(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if _, ok := flagRanges[f.Name]; !ok && numericTypes[f.Value.Type()] && err == nil {
			err = fmt.Errorf("internal error: numeric flag --%s has no range in flagRanges", f.Name)
		}
	})
	return err
}

// checkFlagRanges checks every numeric flag of fs, given or defaulted,
// against flagRanges; the error wraps errUsage and names the flag, its
// value and its range.
func checkFlagRanges(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if r, ok := flagRanges[f.Name]; ok && err == nil && (numericTypes[f.Value.Type()] || r.list) {
			err = r.check(f.Name, f.Value.String())
		}
	})
	return err
}

func (r flagRange) check(name, value string) error {
	values := []string{value}
	if r.list {
		values = strings.Split(value, ",")
	}
	for _, s := range values {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil && r.list {
			// The command reports malformed lists itself, with its own
			// wording; only numbers are range-checked here.
			continue
		}
		if err != nil || math.IsNaN(v) || !(v == 0 && r.zero || v >= r.lo && v <= r.hi) {
			return fmt.Errorf("%w: --%s %s is outside its allowed range %s", errUsage, name, value, r)
		}
	}
	return nil
}

func (r flagRange) String() string {
	if math.IsInf(r.lo, -1) {
		return "(any number)"
	}
	s := fmt.Sprintf("[%v, %v]", r.lo, r.hi)
	if r.zero && r.lo > 0 {
		s = "0 or " + s
	}
	if r.list {
		s += ", comma-separated"
	}
	return s
}
