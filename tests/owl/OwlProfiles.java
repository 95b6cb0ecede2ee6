import java.io.File;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.model.*;
import org.semanticweb.owlapi.profiles.*;

/**
 * OWL 2 profile check of an ontology document with the OWL API (Debian libowlapi-java):
 * prints "PROFILE name count" per profile, then one "VIOLATION profile text" line each.
 * Compiled and run by tests/test_owl.py.
 */
public class OwlProfiles {
    public static void main(String[] args) throws Exception {
        OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
        OWLOntology ontology = manager.loadOntologyFromOntologyDocument(new File(args[0]));
        for (OWLProfile profile : new OWLProfile[] {new OWL2DLProfile(), new OWL2RLProfile()}) {
            OWLProfileReport report = profile.checkOntology(ontology);
            System.out.println("PROFILE\t" + profile.getName() + "\t" + report.getViolations().size());
            for (OWLProfileViolation v : report.getViolations()) System.out.println("VIOLATION\t" + profile.getName() + "\t" + v.toString().replace('\n', ' '));
        }
    }
}
