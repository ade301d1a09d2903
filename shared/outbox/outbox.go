// Package outbox is the contract between a service that announces events
// and its relay (shared/outbox/relay): the service writes an event in the
// same write as its change, and reads the stream record of that write into
// a Message, in one place, next to the code that writes it. The relay sends
// the Message to the events queue with the attributes below, which the
// queue's consumers read.
package outbox

import "github.com/aws/aws-lambda-go/events"

// Message is the event a service hands its relay: what one stream record
// of its table announces.
type Message struct {
	EventID       string // the queue's deduplication id
	EventType     string
	Group         string // the queue's message group: a group's events arrive in order
	CorrelationID string
	Body          string // the event, as the queue's consumers read it
}

// Reader reads the message a stream record of a service's table announces.
// ok is false for the records that announce none; an error is a record that
// should announce one and cannot be read (the relay logs and skips it).
type Reader func(rec events.DynamoDBEventRecord) (m Message, ok bool, err error)

// Message attribute names set on every relayed event; the queue's
// consumers read them.
const (
	AttrEventType     = "eventType"
	AttrCorrelationID = "correlationId"
)
