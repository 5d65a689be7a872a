// QR scanning for check-in, loaded only by the meeting screen. The browser's BarcodeDetector
// where it exists (Android Chrome, Safari 17+ on macOS), else jsQR decoding camera frames.

interface Detector {
  detect(source: CanvasImageSource): Promise<{ rawValue: string }[]>;
}

declare global {
  interface Window {
    BarcodeDetector?: {
      new (options: { formats: string[] }): Detector;
      getSupportedFormats(): Promise<string[]>;
    };
  }
}

async function nativeDetector(): Promise<Detector | null> {
  const Native = window.BarcodeDetector;
  if (!Native) return null;
  try {
    return (await Native.getSupportedFormats()).includes("qr_code") ? new Native({ formats: ["qr_code"] }) : null;
  } catch {
    return null;
  }
}

/** Start the camera into `video` and call `found` with each decoded payload until it returns true
 * or `stop()` is called. Throws when no camera can be opened. */
export async function scan(
  video: HTMLVideoElement,
  found: (payload: string) => boolean,
): Promise<{ stop: () => void }> {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: "environment" },
    audio: false,
  });
  video.srcObject = stream;
  await video.play();
  const detector = await nativeDetector();
  const jsQR = detector ? null : (await import("jsqr")).default;
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true })!;
  let running = true;
  let timer = 0;

  const stop = () => {
    running = false;
    window.clearTimeout(timer);
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  };

  const tick = async () => {
    if (!running) return;
    if (video.readyState >= 2 && video.videoWidth > 0) {
      let payload: string | null = null;
      if (detector) {
        const codes = await detector.detect(video);
        payload = codes[0]?.rawValue ?? null;
      } else if (jsQR) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        context.drawImage(video, 0, 0);
        const image = context.getImageData(0, 0, canvas.width, canvas.height);
        payload = jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" })?.data ?? null;
      }
      if (payload && found(payload)) return;
    }
    // A few frames a second is enough to catch a code held in front of the camera and spares
    // a low-end phone's CPU.
    timer = window.setTimeout(() => void tick(), 250);
  };
  void tick();
  return { stop };
}
