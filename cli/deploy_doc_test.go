package cli

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

// TestDeployGuideCommands keeps docs/deploy.md honest: every groupvit
// command in its code blocks (after a pipe, behind sudo or libcamerify, or
// in a systemd ExecStart= line too) names a real command,
// and its flags parse: the line is run with --help appended, which parses
// every flag before it and stops there, so an unknown flag or a bad value
// fails while nothing runs.
func TestDeployGuideCommands(t *testing.T) {
	data, err := os.ReadFile("../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	cmds := commands()
	var checked []string
	inCode := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
			continue
		}
		if !inCode {
			continue
		}
		line = strings.TrimPrefix(line, "ExecStart=")
		for _, seg := range strings.Split(line, "|") {
			words, err := shellWords(seg)
			if err != nil {
				t.Errorf("docs/deploy.md:%d: %v", n, err)
				continue
			}
			// The command word: the first, past wrappers that run the
			// rest (sudo, libcamerify) and VAR=value assignments.
			i := 0
			for i < len(words) && (words[i] == "sudo" || words[i] == "libcamerify" || strings.Contains(words[i], "=")) {
				i++
			}
			if i == len(words) || (words[i] != "groupvit" && !strings.HasSuffix(words[i], "/groupvit")) {
				continue
			}
			args := words[i+1:]
			if j := indexOf(args, "#"); j >= 0 {
				args = args[:j]
			}
			if len(args) == 0 {
				t.Errorf("docs/deploy.md:%d: groupvit without a command", n)
				continue
			}
			if _, ok := cmds[args[0]]; !ok {
				t.Errorf("docs/deploy.md:%d: groupvit %s: no such command", n, args[0])
				continue
			}
			var out bytes.Buffer
			if code := Main(append(append([]string(nil), args...), "--help"), &out, &out); code != 0 {
				t.Errorf("docs/deploy.md:%d: groupvit %s: flags do not parse (exit %d):\n%s", n, strings.Join(args, " "), code, lastLines(out.String(), 3))
			}
			checked = append(checked, args[0])
		}
	}
	// The guide's main steps must be there to be checked at all.
	for _, want := range []string{"version", "doctor", "cameras", "run", "export", "inspect", "bench", "bench-files"} {
		if indexOf(checked, want) < 0 {
			t.Errorf("docs/deploy.md has no groupvit %s command (checked: %v)", want, checked)
		}
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// shellWords splits a command line as a POSIX shell would for the simple
// lines a guide holds: whitespace separates words, single and double
// quotes group them; no expansion.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errUnclosedQuote
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

var errUnclosedQuote = errors.New("unclosed quote")
