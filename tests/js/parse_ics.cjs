// Parse an .ics file with ical.js (an independent implementation) and print
// each event's UID, SEQUENCE, status and UTC times as JSON (with the METHOD and
// how many VTIMEZONEs the file holds), for the tests. A file may hold several events.
const fs = require("fs");
const ICAL = require("../../node_modules/ical.js/dist/ical.es5.cjs");

const data = fs.readFileSync(process.argv[2], "utf8");
const calendar = new ICAL.Component(ICAL.parse(data));
for (const zone of calendar.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(zone);
}
const events = calendar.getAllSubcomponents("vevent").map((component) => {
  const event = new ICAL.Event(component);
  return {
    uid: event.uid,
    sequence: event.sequence,
    status: component.getFirstPropertyValue("status"),
    tzid: component.getFirstProperty("dtstart").getParameter("tzid"),
    start: event.startDate.toJSDate().toISOString(),
    end: event.endDate.toJSDate().toISOString(),
    location: event.location,
  };
});
console.log(
  JSON.stringify({
    method: calendar.getFirstPropertyValue("method"),
    timezones: calendar.getAllSubcomponents("vtimezone").length,
    events,
  }),
);
