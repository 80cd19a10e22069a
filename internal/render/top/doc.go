// Package top prints `bpfkit prog top`: the cells of its table, shared by
// the live view and the piped documents of package render, and the live
// full-screen view itself (Run), built with Bubble Tea and Lip Gloss: it
// redraws in place after each interval, sorts on keys, keeps each
// program's last minute as a small graph, and gives the terminal back as
// it found it when it quits.
//
// Like its parent package it prints and decides nothing else: the
// intervals come from objects/stats through the function Run is given,
// and the command chooses when the live view is used.
package top
