package interceptor

import (
	"reflect"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ErrorResponse answers req with an error: the response mirrors the
// topics, partitions and resources the request names, each carrying code
// (and message, where the protocol has one), and any top-level error code
// is set too. It works on every API by the regular shape of Kafka's
// messages, so an interceptor blocking any request gets an answer its
// client can parse.
func ErrorResponse(req kmsg.Request, code int16, message string) kmsg.Response {
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	rq, rs := reflect.ValueOf(req).Elem(), reflect.ValueOf(resp).Elem()
	mirror(rq, rs, code, message)
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
var identityFields = []string{"Topic", "Name", "TopicID", "Partition", "ResourceType", "ResourceName", "Group", "TransactionalID"}

func mirror(rq, rs reflect.Value, code int16, message string) {
	setErrors(rs, code, message)
	for _, f := range identityFields {
		src, dst := rq.FieldByName(f), rs.FieldByName(f)
		if src.IsValid() && dst.IsValid() && src.Type() == dst.Type() {
			dst.Set(src)
		}
	}
	for i := range rs.NumField() {
		dst := rs.Field(i)
		if dst.Kind() != reflect.Slice || dst.Type().Elem().Kind() != reflect.Struct {
			continue
		}
		src := rq.FieldByName(rs.Type().Field(i).Name)
		if !src.IsValid() || src.Kind() != reflect.Slice || src.Type().Elem().Kind() != reflect.Struct {
			continue
		}
		out := reflect.MakeSlice(dst.Type(), src.Len(), src.Len())
		for j := range src.Len() {
			e := out.Index(j)
			if d := e.Addr().MethodByName("Default"); d.IsValid() {
				d.Call(nil)
			}
			mirror(src.Index(j), e, code, message)
		}
		dst.Set(out)
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

// SetThrottle raises a response's throttle time to d.
func SetThrottle(resp kmsg.Response, d time.Duration) {
	f := reflect.ValueOf(resp).Elem().FieldByName("ThrottleMillis")
	if f.IsValid() && f.Kind() == reflect.Int32 {
		f.SetInt(max(f.Int(), min(d.Milliseconds(), 1<<31-1)))
	}
}
