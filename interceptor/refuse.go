package interceptor

import (
	"reflect"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ErrorResponse answers req with an error: the response mirrors the
// topics, partitions, groups and resources the request names, each
// carrying code (and message, where the protocol has one), and any
// top-level error code is set too. It works on every API by the regular
// shape of Kafka's messages, so an interceptor blocking any request gets an
// answer its client can parse. Two admin APIs whose answers are shaped
// differently from their requests (AlterReplicaLogDirs, and DescribeLogDirs
// before v3) get an empty answer.
func ErrorResponse(req kmsg.Request, code int16, message string) kmsg.Response {
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	rq, rs := reflect.ValueOf(req).Elem(), reflect.ValueOf(resp).Elem()
	mirror(rq, rs, code, message)
	clearSessionError(resp)
	if d, ok := req.(*kmsg.DeleteTopicsRequest); ok && len(d.Topics) == 0 {
		r := resp.(*kmsg.DeleteTopicsResponse)
		for _, n := range d.TopicNames {
			t := kmsg.NewDeleteTopicsResponseTopic()
			t.Topic, t.ErrorCode, t.ErrorMessage = kmsg.StringPtr(n), code, &message
			r.Topics = append(r.Topics, t)
		}
	}
	return resp
}

// identityFields name what a request's entries are about; they are copied
// into the matching response entries.
var identityFields = []string{"Topic", "Name", "TopicID", "Partition", "ResourceType", "ResourceName", "Group", "GroupID",
	"TransactionalID", "Key", "User"}

// entryLists maps request list names to the response list answering them
// where the two differ.
var entryLists = map[string]string{
	"GroupIDs": "Groups", "TransactionalIDs": "TransactionStates", "PartitionIndexes": "Partitions",
	"CoordinatorKeys": "Coordinators", "Filters": "Results", "Creations": "Results",
	"Deletions": "Results", "Upsertions": "Results",
}

func mirror(rq, rs reflect.Value, code int16, message string) {
	setErrors(rs, code, message)
	for _, f := range identityFields {
		src, dst := rq.FieldByName(f), rs.FieldByName(f)
		if src.IsValid() && dst.IsValid() && src.Type() == dst.Type() {
			dst.Set(src)
		}
	}
	for i := range rq.NumField() {
		src := rq.Field(i)
		if src.Kind() != reflect.Slice {
			continue
		}
		name := rq.Type().Field(i).Name
		dst := rs.FieldByName(name)
		if alias, ok := entryLists[name]; ok && !isEntryList(dst) {
			dst = rs.FieldByName(alias)
		}
		if !isEntryList(dst) {
			continue
		}
		out := reflect.MakeSlice(dst.Type(), src.Len(), src.Len())
		for j := range src.Len() {
			e := out.Index(j)
			if d := e.Addr().MethodByName("Default"); d.IsValid() {
				d.Call(nil)
			}
			if item := src.Index(j); item.Kind() == reflect.Struct {
				mirror(item, e, code, message)
			} else {
				setIdentity(e, item)
				setErrors(e, code, message)
			}
		}
		dst.Set(reflect.AppendSlice(dst, out))
	}
}

// isEntryList reports whether v is a list of response entries.
func isEntryList(v reflect.Value) bool {
	return v.IsValid() && v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct
}

// setIdentity names a response entry after a request's plain list item
// (a group id, a partition number).
func setIdentity(e, item reflect.Value) {
	for _, f := range identityFields {
		if dst := e.FieldByName(f); dst.IsValid() && dst.Type() == item.Type() {
			dst.Set(item)
			return
		}
	}
}

// setErrors sets the error code and message fields of one struct.
func setErrors(v reflect.Value, code int16, message string) {
	if f := v.FieldByName("ErrorCode"); f.IsValid() && f.Kind() == reflect.Int16 {
		f.SetInt(int64(code))
	}
	if f := v.FieldByName("ErrorMessage"); f.IsValid() && f.Type() == reflect.TypeFor[*string]() {
		m := message
		f.Set(reflect.ValueOf(&m))
	}
}

// FailResponse turns a response into a refusal: every error code in it is
// set to code, and records it carries are dropped.
func FailResponse(resp kmsg.Response, code int16, message string) {
	fail(reflect.ValueOf(resp).Elem(), code, message)
	clearSessionError(resp)
}

// clearSessionError leaves a Fetch response's top-level error code alone:
// it is about fetch sessions, which clients reset and retry silently; the
// partitions carry the refusal.
func clearSessionError(resp kmsg.Response) {
	if f, ok := resp.(*kmsg.FetchResponse); ok {
		f.ErrorCode = 0
	}
}

func fail(v reflect.Value, code int16, message string) {
	setErrors(v, code, message)
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case f.Type() == reflect.TypeFor[[]byte]() && v.Type().Field(i).Name == "RecordBatches":
			f.SetZero()
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
			for j := range f.Len() {
				fail(f.Index(j), code, message)
			}
		case f.Kind() == reflect.Struct:
			fail(f, code, message)
		}
	}
}

// SetThrottle raises a response's throttle time to d, where the response
// has one.
func SetThrottle(resp kmsg.Response, d time.Duration) {
	r, ok := resp.(interface {
		Throttle() (int32, bool)
		SetThrottle(int32)
	})
	if !ok {
		return
	}
	if cur, _ := r.Throttle(); int64(cur) < d.Milliseconds() {
		r.SetThrottle(int32(min(d.Milliseconds(), 1<<31-1)))
	}
}
