// Oracle: golang.org/x/mod/semver (Debian golang-golang-x-mod-dev, GOPATH mode). One
// version a line prints 1 or 0 (valid or not); two, semver.Compare.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/semver"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		f := strings.Split(in.Text(), "\t")
		if len(f) == 1 {
			if semver.IsValid(f[0]) {
				fmt.Fprintln(out, 1)
			} else {
				fmt.Fprintln(out, 0)
			}
			continue
		}
		fmt.Fprintln(out, semver.Compare(f[0], f[1]))
	}
}
