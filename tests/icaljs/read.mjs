// Reads one iCalendar feed from stdin the way Thunderbird does (ical.js) and prints its events
// as JSON: instants in UTC seconds, all-day dates as YYYY-MM-DD.
import ICAL from "ical.js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const calendar = new ICAL.Component(ICAL.parse(Buffer.concat(chunks).toString("utf8")));
// Thunderbird registers every VTIMEZONE of a calendar before reading its events.
for (const zone of calendar.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(zone);
}
const when = (time) =>
  time.isDate ? time.toString() : { utc: time.toUnixTime(), zone: time.zone ? time.zone.tzid : null };
const events = calendar.getAllSubcomponents("vevent").map((component) => {
  const event = new ICAL.Event(component);
  return {
    uid: event.uid,
    summary: event.summary,
    start: when(event.startDate),
    end: when(event.endDate),
    sequence: event.sequence,
    status: component.getFirstPropertyValue("status"),
    description: event.description,
    location: event.location,
  };
});
const props = {};
for (const name of ["x-wr-caldesc", "x-wr-calname", "name", "description"]) {
  props[name] = calendar.getFirstPropertyValue(name);
}
process.stdout.write(JSON.stringify({ events, props }));
