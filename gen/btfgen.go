package gen

import "errors"

// MinCoreBTF is filled in below.
func MinCoreBTF(input string, objects []string) ([]byte, error) {
	return nil, errors.New("not yet")
}
