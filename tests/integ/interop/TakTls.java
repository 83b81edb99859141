// A Java (JSSE) TLS client against takd, the stack ATAK's Android TLS and
// the desktop TAK clients build on: the client certificate from the
// PKCS#12 bundle takctl made for the device, the CA as trust anchor, as an
// ATAK data package sets them up.
//
//   java TakTls.java PORT CLIENT.p12 PASSWORD CA.pem PROTOCOL...
//
// For each PROTOCOL (TLSv1.2, TLSv1.3) connects twice with one SSLContext
// (the second connection may resume the first one's session), sends one
// CoT ping, reads for half a second (a TLS 1.3 ticket comes
// after the handshake), and prints one line per connection:
//   handshake ok PROTOCOL CIPHER_SUITE
// Exit status 0 when every handshake succeeded, 1 otherwise.
import java.io.FileInputStream;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

public class TakTls {
    public static void main(String[] args) throws Exception {
        if (args.length < 5) {
            System.err.println("usage: java TakTls.java PORT CLIENT.p12 PASSWORD CA.pem PROTOCOL...");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        char[] pass = args[2].toCharArray();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(args[1])) {
            ks.load(in, pass);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(
            KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pass);
        KeyStore ts = KeyStore.getInstance(KeyStore.getDefaultType());
        ts.load(null, null);
        try (InputStream in = new FileInputStream(args[3])) {
            ts.setCertificateEntry("ca",
                CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(
            TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        int failed = 0;
        for (int p = 4; p < args.length; p++) {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            for (int i = 0; i < 2; i++) {
                try (SSLSocket s = (SSLSocket) ctx.getSocketFactory()
                        .createSocket("127.0.0.1", port)) {
                    s.setEnabledProtocols(new String[] { args[p] });
                    s.startHandshake();
                    SSLSession ss = s.getSession();
                    System.out.println("handshake ok " + ss.getProtocol() +
                        " " + ss.getCipherSuite());
                    s.getOutputStream().write(("<event version=\"2.0\" " +
                        "uid=\"jsse\" type=\"t-x-c-t\" how=\"h-g-i-g-o\"/>")
                        .getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                    s.setSoTimeout(500);
                    try {
                        while (s.getInputStream().read() != -1)
                            ;
                    } catch (SocketTimeoutException e) {
                        // Nothing more to read: done.
                    }
                } catch (Exception e) {
                    System.out.println("handshake failed " + args[p] + ": " + e);
                    failed++;
                }
            }
        }
        System.exit(failed == 0 ? 0 : 1);
    }
}
