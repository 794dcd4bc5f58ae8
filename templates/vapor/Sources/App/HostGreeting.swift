/// What `GET /host` answers: code of the app itself, not of a hot module.
/// With `hot watch` running, edit it and save: the running app answers with
/// the new text on the next request, without a restart.
func hostGreeting() -> String {
    "Hello from the app's own code"
}
