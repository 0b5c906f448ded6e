"""Renders the carrier twin's simulated prospects (espeak-ng Spanish voices + sox, 8 kHz mono WAV).

Run from assets/prospects/: python3 make_clips.py (rewrites the clips and manifest.json).
The first turn follows the bot's opener, so no persona says hello first.
"""
import json, subprocess, pathlib, wave
PERSONAS = {
  "interested": ("es+m3", 150, 50, [
     "Ah, pues sí, cuéntame más.",
     "Vale, me interesa, pásame con alguien, por favor."]),
  "price_then_decline": ("es+f3", 160, 60, [
     "¿Y cuánto cuesta eso?",
     "Uf, no, ahora mismo no nos interesa, gracias."]),
  "callback": ("es+m1", 165, 45, [
     "Ahora mismo estoy en una reunión. Llámame el jueves por la mañana, por favor."]),
  "opt_out": ("es+f2", 155, 55, [
     "No me vuelvas a llamar. Bórrame de vuestra lista, por favor."]),
  "wrong_number": ("es+m2", 150, 40, [
     "No, se ha equivocado de número, aquí no hay nadie con ese nombre."]),
  "voicemail": ("es+f4", 150, 50, [
     "Hola, has llamado al buzón de voz. Ahora no puedo atenderte. Deja tu mensaje después de la señal."]),
}
manifest = {"sample_rate": 8000, "format": "wav, 16-bit mono PCM", "voice": "espeak-ng (Spanish) + sox", "personas": {}}
for name, (voice, speed, pitch, lines) in PERSONAS.items():
    d = pathlib.Path(name); d.mkdir(exist_ok=True)
    clips = []
    for i, text in enumerate(lines, 1):
        raw = f"/tmp/{name}_{i}.wav"; out = d / f"{i:02d}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", raw, text], check=True)
        # 8 kHz mono 16-bit, a touch of telephone band-limiting, trimmed leading/trailing silence.
        subprocess.run(["sox", raw, "-r", "8000", "-c", "1", "-b", "16", str(out), "highpass", "300", "lowpass", "3400",
                        "silence", "1", "0.05", "0.5%", "reverse", "silence", "1", "0.05", "0.5%", "reverse", "norm", "-3"], check=True)
        with wave.open(str(out)) as w: dur = w.getnframes() / w.getframerate()
        clips.append({"file": f"{name}/{out.name}", "text": text, "duration_secs": round(dur, 2)})
    manifest["personas"][name] = {"espeak_voice": voice, "clips": clips}
pathlib.Path("manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
print(json.dumps({k: [c["duration_secs"] for c in v["clips"]] for k, v in manifest["personas"].items()}))
