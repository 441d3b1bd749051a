package gateway

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestParseRequestPeek(t *testing.T) {
	for _, tc := range []struct {
		name    string
		size    int32
		wantErr error
	}{
		{"smallest legal", minRequestSize, nil},
		{"too small", minRequestSize - 1, errFrameTooSmall},
		{"negative", -1, errFrameTooSmall},
		{"at limit", 1000, nil},
		{"over limit", 1001, errFrameTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := make([]byte, requestPeekLen)
			binary.BigEndian.PutUint32(b, uint32(tc.size))
			binary.BigEndian.PutUint16(b[4:], 3)
			binary.BigEndian.PutUint16(b[6:], 12)
			binary.BigEndian.PutUint32(b[8:], 77)
			h, err := parseRequestPeek(b, 1000)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if h.key != 3 || h.version != 12 || h.correlationID != 77 {
				t.Fatalf("header = %+v", h)
			}
		})
	}
}

// encodeRequest returns a request frame as a Kafka client would send it.
func encodeRequest(req kmsg.Request, corr int32, clientID string) []byte {
	return kmsg.NewRequestFormatter(kmsg.FormatterClientID(clientID)).AppendRequest(nil, req, corr)
}

func TestProduceAcks(t *testing.T) {
	txn := "my-transaction"
	for v := int16(3); v <= info(keyProduce).maxVersion; v++ {
		for _, acks := range []int16{0, 1, -1} {
			for _, txnID := range []*string{nil, &txn} {
				req := kmsg.NewPtrProduceRequest()
				req.SetVersion(v)
				req.Acks = acks
				req.TransactionID = txnID
				req.TimeoutMillis = 1000
				frame := encodeRequest(req, 5, "a-client-id")
				got, ok := produceAcks(frame[requestPeekLen:], v)
				if !ok || got != acks {
					t.Errorf("v%d acks=%d txn=%v: got %d, ok=%v", v, acks, txnID != nil, got, ok)
				}
				// A truncated prefix never reads as a valid acks value.
				if _, ok := produceAcks(frame[requestPeekLen:requestPeekLen+3], v); ok {
					t.Errorf("v%d: truncated prefix read as complete", v)
				}
			}
		}
	}
}

func TestSkipResponseHeaderTags(t *testing.T) {
	// Metadata v9+ responses are flexible: one tag section after the
	// correlation id. ApiVersions never has one.
	body := []byte{0, 0xAA}
	if n, err := skipResponseHeaderTags(body, keyMetadata, 12); err != nil || n != 1 {
		t.Fatalf("metadata v12: n=%d err=%v", n, err)
	}
	if n, err := skipResponseHeaderTags(body, keyApiVersions, 3); err != nil || n != 0 {
		t.Fatalf("apiversions v3: n=%d err=%v", n, err)
	}
	if n, err := skipResponseHeaderTags(body, keyMetadata, 8); err != nil || n != 0 {
		t.Fatalf("metadata v8: n=%d err=%v", n, err)
	}
	// One tag claiming 50 bytes that are not there.
	if _, err := skipResponseHeaderTags([]byte{1, 0, 50}, keyMetadata, 12); err == nil {
		t.Fatal("truncated tag section accepted")
	}
}

func FuzzRequestHeader(f *testing.F) {
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	f.Add(encodeRequest(req, 1, "c"))
	md := kmsg.NewPtrMetadataRequest()
	md.SetVersion(12)
	f.Add(encodeRequest(md, 2, ""))
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < requestPeekLen {
			return
		}
		h, err := parseRequestPeek(b, 1<<20)
		if err == nil && (h.size < minRequestSize || h.size > 1<<20) {
			t.Fatalf("size %d accepted", h.size)
		}
		off, err := skipRequestHeaderRest(b[requestPeekLen:], h.key, h.version)
		if err == nil && (off < 0 || off > len(b)-requestPeekLen) {
			t.Fatalf("offset %d out of range", off)
		}
		produceAcks(b[requestPeekLen:], h.version)
	})
}
