package asm

import (
	"errors"
	"strings"
	"testing"
)

// TestParseInvertsFormat formats every opcode with a spread of register,
// offset and immediate values and parses the text back: the parsed
// instruction must print the same text, so every field the grammar shows
// survives. Texts the grammar marks as invalid (BUG_, (null)) are skipped.
func TestParseInvertsFormat(t *testing.T) {
	fields := []Raw{
		{Dst: 1, Src: 2, Off: 0, Imm: 0},
		{Dst: 10, Src: 3, Off: -8, Imm: -24},
		{Dst: 0, Src: 9, Off: 16, Imm: 123456},
		{Dst: 4, Src: 4, Off: 1, Imm: 1},
		{Dst: 2, Src: 7, Off: 8, Imm: 16},
		{Dst: 3, Src: 1, Off: 32, Imm: 32},
		{Dst: 5, Src: 0, Off: -1, Imm: 64},
		{Dst: 6, Src: 6, Off: 32767, Imm: -2147483648},
	}
	atomics := []int32{0x00, 0x40, 0x50, 0xa0, 0x01, 0x41, 0x51, 0xa1, atomicXchg, atomicCmpXchg, atomicLoadAcq, atomicStoreRl}
	checked := 0
	for code := 0; code < 256; code++ {
		if !validCode(uint8(code)) {
			continue
		}
		variants := fields
		if code&0x07 == classSTX && code&0xe0 == modeATOMIC {
			variants = nil
			for _, a := range atomics {
				variants = append(variants, Raw{Dst: 1, Src: 2, Off: -16, Imm: a}, Raw{Dst: 0, Src: 0, Off: 8, Imm: a})
			}
		}
		if code&0xf0 == opEND && (code&0x07 == classALU || code&0x07 == classALU64) {
			variants = []Raw{{Dst: 1, Imm: 16}, {Dst: 2, Imm: 32}, {Dst: 10, Imm: 64}}
		}
		for _, v := range variants {
			r := v
			r.Code = uint8(code)
			if isLdImm64(r.Code) {
				r.Wide, r.Src, r.Imm2 = true, 0, 7
			}
			if r.Code == classJMP|opCALL && r.Src != pseudoCall {
				r.Src = 0
			}
			text := Format(r, nil)
			if strings.Contains(text, "BUG") || strings.Contains(text, "(null)") ||
				strings.Contains(text, "unknown") || strings.Contains(text, "kernel-function") ||
				strings.Contains(text, " jmp ") || strings.Contains(text, "endian") {
				continue
			}
			p, err := ParseInstruction(text)
			if err != nil {
				t.Errorf("%s: %v", text, err)
				continue
			}
			if back := Format(p.Raw, nil); back != text {
				t.Errorf("%s parsed to %+v, which prints %s", text, p.Raw, back)
			}
			checked++
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d instructions checked", checked)
	}
}

// validCode leaves out encodings the kernel rejects that Format still
// prints as something (a jmp32 call, neg with a source register).
func validCode(c uint8) bool {
	cls, op := c&0x07, c&0xf0
	switch {
	case cls == classJMP32 && (op == opCALL || op == opEXIT):
		return false
	case (cls == classJMP || cls == classJMP32) && (op == opCALL || op == opEXIT || op == opJA) && c&srcX != 0 && c != classJMP|opJA|srcX:
		return false
	case (cls == classALU || cls == classALU64) && op == opNEG && c&srcX != 0:
		return false
	case cls == classALU64 && op == opEND && c&srcX != 0:
		return false
	case cls == classLD && c&0xe0 != modeIMM && c&0x18 == sizeDW:
		return false
	case cls == classST && c&0xe0 == 0xc0 && c != classST|0xc0:
		return false
	}
	return true
}

func TestParseForms(t *testing.T) {
	for _, c := range []struct {
		text string
		want Raw
	}{
		{"r1 = 42", Raw{Code: 0xb7, Dst: 1, Imm: 42}},
		{"w1 = -1", Raw{Code: 0xb4, Dst: 1, Imm: -1}},
		{"r3 = 0xffffffff", Raw{Code: 0x18, Dst: 3, Imm: -1, Wide: true}},
		{"r3 = 5 ll", Raw{Code: 0x18, Dst: 3, Imm: 5, Wide: true}},
		{"r1 = 0x123456789", Raw{Code: 0x18, Dst: 1, Imm: 0x23456789, Imm2: 1, Wide: true}},
		{"*(u32 *)(r10 - 8) = r2", Raw{Code: 0x63, Dst: 10, Src: 2, Off: -8}},
		{"  7: (63) *(u32 *)(r10 -8) = r2", Raw{Code: 0x63, Dst: 10, Src: 2, Off: -8}},
		{"call bpf_map_lookup_elem", Raw{Code: 0x85, Imm: 1}},
		{"call #25", Raw{Code: 0x85, Imm: 25}},
		{"r0 = *(u8 *)skb[12]", Raw{Code: 0x30, Imm: 12}},
		{"if w1 s< -3 goto pc-2", Raw{Code: 0xc6, Dst: 1, Imm: -3, Off: -2}},
		{"r2 = be16 r2", Raw{Code: 0xdc, Dst: 2, Imm: 16}},
		{"r2 = bswap64 r2", Raw{Code: 0xd7, Dst: 2, Imm: 64}},
		{"r1 s/= r2", Raw{Code: 0x3f, Dst: 1, Src: 2, Off: 1}},
		{"r1 = (s8)r2", Raw{Code: 0xbf, Dst: 1, Src: 2, Off: 8}},
		{"r1 = *(s16 *)(r2 +4)", Raw{Code: 0x89, Dst: 1, Src: 2, Off: 4}},
	} {
		p, err := ParseInstruction(c.text)
		if err != nil {
			t.Errorf("%s: %v", c.text, err)
			continue
		}
		if p.Raw != c.want {
			t.Errorf("%s: got %+v, want %+v", c.text, p.Raw, c.want)
		}
	}
}

func TestParseReferences(t *testing.T) {
	p, err := ParseInstruction("r1 = map[.rodata][0]+8")
	if err != nil || p.Ref != RefMap || p.RefName != ".rodata" || p.Raw.Imm != 8 {
		t.Errorf("map reference: %+v, %v", p, err)
	}
	p, err = ParseInstruction("if r0 == 0x0 goto out")
	if err != nil || p.Target != "out" || p.TargetCol != 19 {
		t.Errorf("label: %+v, %v", p, err)
	}
	p, err = ParseInstruction("call helper_sub")
	if err != nil || p.Ref != RefCall || p.Raw.Src != pseudoCall {
		t.Errorf("call by name: %+v, %v", p, err)
	}
}

// TestParseErrors: each kind of mistake says where and what was expected.
func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		text string
		col  int
		msg  string
	}{
		{"r11 = 1", 1, "expected an instruction"},
		{"r1 = r12", 6, "expected a register, an immediate"},
		{"r1 = 4294967296", 6, "does not fit in 32 bits"},
		{"r1 += 0x100000000", 7, "does not fit in 32 bits"},
		{"*(u32 *)(r10 -40000) = r1", 14, "does not fit in 16 bits"},
		{"if r1 == 0 goto pc+40000", 19, "does not fit in 16 bits"},
		{"call bpf_map_lookup_elem#2", 6, "is helper #1"},
		{"r1 = *(u128 *)(r2 +0)", 8, "expected a size"},
		{"w1 = r2", 6, "one width"},
		{"(bf) r1 = 1", 2, "does not match"},
		{"r1 = 1 extra", 8, "unexpected 'extra'"},
		{"r1 = $", 6, "unexpected character"},
		{"lock *(u64 *)(r1 +0) -= r2", 22, "expected an atomic operation"},
	} {
		_, err := ParseInstruction(c.text)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%s: got %v, want a syntax error", c.text, err)
			continue
		}
		if se.Col != c.col || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("%s: got col %d %q, want col %d %q", c.text, se.Col, se.Msg, c.col, c.msg)
		}
	}
}

func FuzzParseInstruction(f *testing.F) {
	for _, s := range []string{"r1 = 42", "if r1 s>= 0x3 goto pc+2", "r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)", "call bpf_ringbuf_output#130", "r1 = map[ring]", "lock *(u32 *)(r10 -4) += r1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseInstruction(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Col < 1 || se.Col > len(s)+1 {
				t.Fatalf("%q: error %v has no column in range", s, err)
			}
			return
		}
		_ = Format(p.Raw, nil)
	})
}
