package interceptor

import (
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fill gives every slice of structs in v one element, recursively, so a
// request names one of everything.
func fill(v reflect.Value, depth int) {
	if depth > 4 {
		return
	}
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
			fill(f.Index(0), depth+1)
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Int32:
			f.Set(reflect.ValueOf([]int32{0}).Convert(f.Type()))
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
			f.Set(reflect.ValueOf([]string{"t"}).Convert(f.Type()))
		case f.Kind() == reflect.String:
			f.SetString("t")
		case f.Kind() == reflect.Pointer && f.Type().Elem().Kind() == reflect.String:
			s := "t"
			f.Set(reflect.ValueOf(&s))
		}
	}
}

// errorCodes counts the error codes equal to code in v.
func errorCodes(v reflect.Value, code int16) int {
	n := 0
	if f := v.FieldByName("ErrorCode"); f.IsValid() && f.Kind() == reflect.Int16 && f.Int() == int64(code) {
		n++
	}
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct {
			for j := range f.Len() {
				n += errorCodes(f.Index(j), code)
			}
		}
	}
	return n
}

// TestErrorResponseEveryKey refuses one request of every API key at every
// version and checks that the answer carries the error where a client
// looks for it and survives encoding.
func TestErrorResponseEveryKey(t *testing.T) {
	code := kerr.PolicyViolation.Code
	for key := int16(0); key <= kmsg.MaxKey; key++ {
		req := kmsg.RequestForKey(key)
		if req == nil {
			continue
		}
		fill(reflect.ValueOf(req).Elem(), 0)
		for v := int16(0); v <= req.MaxVersion(); v++ {
			req.SetVersion(v)
			resp := ErrorResponse(req, code, "no")
			if resp.GetVersion() != v {
				t.Fatalf("%s v%d: response version %d", kmsg.NameForKey(key), v, resp.GetVersion())
			}
			decoded := req.ResponseKind()
			decoded.SetVersion(v)
			if err := decoded.ReadFrom(resp.AppendTo(nil)); err != nil {
				t.Fatalf("%s v%d: refusal does not decode: %v", kmsg.NameForKey(key), v, err)
			}
			if errorCodes(reflect.ValueOf(decoded).Elem(), code) == 0 && !noErrorField[key] {
				t.Errorf("%s v%d: the refusal carries no error code", kmsg.NameForKey(key), v)
			}
		}
	}
}

// noErrorField lists the keys whose refusals are empty answers (see
// ErrorResponse).
var noErrorField = map[int16]bool{kmsg.AlterReplicaLogDirs.Int16(): true, kmsg.DescribeLogDirs.Int16(): true}

func TestProduceRefusalNamesEachPartition(t *testing.T) {
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(9)
	for _, topic := range []string{"a", "b"} {
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = topic
		for p := range int32(2) {
			rp := kmsg.NewProduceRequestTopicPartition()
			rp.Partition = p
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	resp := ErrorResponse(req, kerr.PolicyViolation.Code, "refused").(*kmsg.ProduceResponse)
	if len(resp.Topics) != 2 || resp.Topics[1].Topic != "b" || len(resp.Topics[1].Partitions) != 2 ||
		resp.Topics[1].Partitions[1].Partition != 1 || resp.Topics[1].Partitions[1].ErrorCode != kerr.PolicyViolation.Code ||
		*resp.Topics[1].Partitions[1].ErrorMessage != "refused" {
		t.Errorf("refusal %+v", resp.Topics)
	}
}

func TestFailAndThrottle(t *testing.T) {
	resp := kmsg.NewPtrFetchResponse()
	rt := kmsg.NewFetchResponseTopic()
	rp := kmsg.NewFetchResponseTopicPartition()
	rp.RecordBatches = []byte{1, 2, 3}
	rt.Partitions = append(rt.Partitions, rp)
	resp.Topics = append(resp.Topics, rt)
	FailResponse(resp, kerr.UnknownServerError.Code, "x")
	if p := resp.Topics[0].Partitions[0]; p.ErrorCode != kerr.UnknownServerError.Code || p.RecordBatches != nil {
		t.Errorf("failed partition %+v", p)
	}
	SetThrottle(resp, 250*time.Millisecond)
	SetThrottle(resp, 100*time.Millisecond)
	if resp.ThrottleMillis != 250 {
		t.Errorf("throttle %d, want the longest, 250", resp.ThrottleMillis)
	}
}
