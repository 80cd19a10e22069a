package testrun

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// ngMagic is the block type of a pcapng file's first block, the same
// bytes in either byte order.
const ngMagic = 0x0a0d0d0a

// IsPcap reports whether data begins like a pcap file (either byte order,
// micro- or nanosecond timestamps) or a pcapng file.
func IsPcap(data []byte) bool {
	if len(data) < 4 {
		return false
	}
	if binary.LittleEndian.Uint32(data) == ngMagic {
		return true
	}
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		switch order.Uint32(data) {
		case 0xa1b2c3d4, 0xa1b23c4d:
			return true
		}
	}
	return false
}

// Packet is one packet of a pcap file.
type Packet struct {
	Data []byte
	// Info has its timestamp, and its length on the wire (more than
	// len(Data) when the capture cut it short).
	Info gopacket.CaptureInfo
}

// packetReader is what pcapgo's pcap and pcapng readers both do.
type packetReader interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	LinkType() layers.LinkType
}

// ReadPcap reads every packet of a pcap or pcapng file, with gopacket's
// pure-Go readers. Of a pcapng file, the packets of every interface are
// read, and the link type is the first interface's.
func ReadPcap(data []byte) ([]Packet, layers.LinkType, error) {
	var r packetReader
	var err error
	if len(data) >= 4 && binary.LittleEndian.Uint32(data) == ngMagic {
		r, err = pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.DefaultNgReaderOptions)
	} else {
		r, err = pcapgo.NewReader(bytes.NewReader(data))
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read pcap: %w", err)
	}
	var pkts []Packet
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("read pcap packet %d: %w", len(pkts)+1, err)
		}
		pkts = append(pkts, Packet{Data: data, Info: ci})
	}
	if len(pkts) == 0 {
		return nil, 0, errors.New("read pcap: the file holds no packets")
	}
	return pkts, r.LinkType(), nil
}

// WritePcap writes packets as a pcap file of link type lt, each with the
// timestamp it has and its length.
func WritePcap(w io.Writer, lt layers.LinkType, packets []Packet) error {
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(65536, lt); err != nil {
		return err
	}
	for _, p := range packets {
		ci := gopacket.CaptureInfo{Timestamp: p.Info.Timestamp, CaptureLength: len(p.Data), Length: len(p.Data)}
		if err := pw.WritePacket(ci, p.Data); err != nil {
			return err
		}
	}
	return nil
}
