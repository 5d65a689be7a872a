import { render } from "preact";
import { App } from "./app";
import { setSignedOutHandler } from "./api/client";
import { flush, watchNetwork } from "./offline/store";
import { resume, sessionEnded } from "./session";
import "./styles.css";
import "./ui/settings";

setSignedOutHandler(sessionEnded);
watchNetwork();
render(<App />, document.getElementById("app")!);
void resume().then(() => flush());

if ("serviceWorker" in navigator) {
  void navigator.serviceWorker.register("/sw.js", { scope: "/" });
}
