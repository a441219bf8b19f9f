"""The console's files: one HTML page, its stylesheet and its script, served as they are by the api
function (heartbeat.api.routes.console). No build step, nothing fetched from elsewhere."""
