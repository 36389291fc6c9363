// Oracle: Maven's own ComparableVersion (Debian libmaven3-core-java): "a<TAB>b" lines on
// stdin, the sign of the comparison on stdout.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import org.apache.maven.artifact.versioning.ComparableVersion;

public class MavenOracle {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        StringBuilder out = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.split("\t", -1);
            int c = new ComparableVersion(f[0]).compareTo(new ComparableVersion(f[1]));
            out.append(Integer.signum(c)).append('\n');
        }
        System.out.print(out);
    }
}
