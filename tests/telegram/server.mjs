// Starts telegram-test-api (a Telegram Bot API emulator from npm) on a free
// loopback port and writes its URL to the file named by the first argument.
import net from "node:net";
import { writeFileSync } from "node:fs";
import TelegramServer from "telegram-test-api";

const free = await new Promise((resolve, reject) => {
  const probe = net.createServer();
  probe.once("error", reject);
  probe.listen(0, "127.0.0.1", () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});
const server = new TelegramServer({ port: free, host: "127.0.0.1", storage: "RAM", storeTimeout: 600 });
await server.start();
writeFileSync(process.argv[2], server.config.apiURL);
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
