package io.nimbus.cluster.membership;

import io.nimbus.core.gossip.Endpoint;
import org.jboss.logging.Logger;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.NetworkInterface;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.function.Consumer;

/**
 * Finds peers on a multicast group: every interval this node announces {@code id host port}; an
 * announcement from another node hands its endpoint to gossip as a seed to catch up from. With a
 * cluster secret the announcement carries an HMAC and unsigned ones are ignored (the transport
 * authenticates the connection itself in any case).
 */
public final class MulticastDiscovery implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(MulticastDiscovery.class);
    private static final String MAGIC = "NIMBUS1";
    private static final int PACKET_BYTES_MAX = 512;

    private final InetSocketAddress group;
    private final NetworkInterface networkInterface;
    private final String announcement;
    private final String selfId;
    private final byte[] secret;
    private final long intervalMs;
    private final Consumer<Endpoint> onPeer;
    private final MulticastSocket socket;
    private final Thread thread;
    private volatile boolean running = true;

    public MulticastDiscovery(Endpoint groupAddress, String interfaceName, String selfId, Endpoint self, String secret,
                              long intervalMs, Consumer<Endpoint> onPeer) throws IOException {
        this.group = new InetSocketAddress(InetAddress.getByName(groupAddress.host()), groupAddress.port());
        if (!group.getAddress().isMulticastAddress()) {
            throw new IllegalArgumentException("nimbus.cluster.multicast-group " + groupAddress + " is not a multicast address");
        }
        this.networkInterface = interfaceName != null ? NetworkInterface.getByName(interfaceName)
                : NetworkInterface.getByInetAddress(InetAddress.getByName(self.host()));
        if (networkInterface == null) {
            throw new IllegalArgumentException("no network interface " + (interfaceName != null ? "named " + interfaceName
                    : "holds " + self.host()) + ": set nimbus.cluster.multicast-interface");
        }
        this.selfId = selfId;
        this.secret = secret == null || secret.isEmpty() ? null : secret.getBytes(StandardCharsets.UTF_8);
        String body = MAGIC + " " + selfId + " " + self.host() + " " + self.port();
        this.announcement = body + " " + sign(body);
        this.intervalMs = intervalMs;
        this.onPeer = onPeer;
        this.socket = new MulticastSocket(group.getPort());
        socket.setNetworkInterface(networkInterface);
        socket.setTimeToLive(1);
        socket.setSoTimeout((int) Math.max(50, Math.min(intervalMs, 1000)));
        socket.joinGroup(group, networkInterface);
        this.thread = new Thread(this::run, "nimbus-multicast-discovery");
        this.thread.setDaemon(true);
        this.thread.start();
        LOG.infof("multicast discovery on %s via %s", groupAddress, networkInterface.getName());
    }

    private String sign(String body) {
        if (secret == null) {
            return "-";
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(body.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }

    private void run() {
        byte[] out = announcement.getBytes(StandardCharsets.UTF_8);
        byte[] in = new byte[PACKET_BYTES_MAX];
        long nextAnnounce = 0;
        while (running) {
            try {
                long now = System.currentTimeMillis();
                if (now >= nextAnnounce) {
                    socket.send(new DatagramPacket(out, out.length, group));
                    nextAnnounce = now + intervalMs;
                }
                DatagramPacket p = new DatagramPacket(in, in.length);
                try {
                    socket.receive(p);
                } catch (SocketTimeoutException e) {
                    continue;
                }
                Endpoint peer = parse(new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8));
                if (peer != null) {
                    onPeer.accept(peer);
                }
            } catch (IOException e) {
                if (running) {
                    LOG.warnf("multicast discovery: %s (retrying)", e.getMessage());
                    sleepQuietly();
                }
            }
        }
    }

    private void sleepQuietly() {
        try {
            Thread.sleep(intervalMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /** The endpoint in a valid announcement from another node, else null. */
    Endpoint parse(String text) {
        String[] f = text.trim().split(" ");
        if (f.length != 5 || !f[0].equals(MAGIC) || f[1].equals(selfId)) {
            return null;
        }
        String body = String.join(" ", f[0], f[1], f[2], f[3]);
        if (!MessageDigest.isEqual(sign(body).getBytes(StandardCharsets.US_ASCII), f[4].getBytes(StandardCharsets.US_ASCII))) {
            return null;
        }
        try {
            return new Endpoint(f[2], Integer.parseInt(f[3]));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    @Override
    public void close() {
        running = false;
        socket.close();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
