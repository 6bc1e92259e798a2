package dev.lora4j.classify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClassificationDataTest {
    @TempDir
    Path dir;

    private LabeledDataset read(String name, String content, List<String> labels) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, content);
        return ClassificationData.read(f, null, null, labels);
    }

    @Test
    void sst2StyleTsvWithHeaderAndIndexLabelsNamedByTheCaller() throws Exception {
        LabeledDataset d = read("train.tsv", "label\tsentence\n0\tdull , lifeless \"fun\"\n1\ta joy\n\n",
                List.of("negative", "positive"));
        assertThat(d.texts()).containsExactly("dull , lifeless \"fun\"", "a joy");   // quotes are plain text in TSV
        assertThat(d.labels()).containsExactly(0, 1);
        assertThat(d.lines()).containsExactly(2, 3);
        assertThat(d.labelNames()).containsExactly("negative", "positive");
    }

    @Test
    void smsSpamStyleTsvWithNamedLabelsInSortedOrderAndNoExtension() throws Exception {
        LabeledDataset d = read("SMSSpamCollection", "Label\tSMS\nspam\tWIN a prize now\r\nham\tsee you at 5\r\nham\tok\r\n", null);
        assertThat(d.labelNames()).containsExactly("ham", "spam");
        assertThat(d.labels()).containsExactly(1, 0, 0);
        assertThat(d.texts().get(0)).isEqualTo("WIN a prize now");
        assertThat(d.classCounts()).containsExactly(2, 1);
    }

    @Test
    void headerlessTwoColumnsPutTheLabelInTheColumnWithFewerDistinctValues() throws Exception {
        LabeledDataset d = read("x.tsv", "great film\tpos\nawful film\tneg\nfine film\tpos\n", null);
        assertThat(d.texts()).containsExactly("great film", "awful film", "fine film");
        assertThat(d.labelNames()).containsExactly("neg", "pos");
        assertThat(d.labels()).containsExactly(1, 0, 1);
    }

    @Test
    void csvFollowsRfc4180Quoting() throws Exception {
        String csv = "text,label\r\n"
                + "\"Good, really \"\"good\"\" food\",positive\r\n"
                + "\"two\nlines\",negative\r\n"
                + "plain,positive\r\n";
        LabeledDataset d = read("d.csv", csv, null);
        assertThat(d.texts()).containsExactly("Good, really \"good\" food", "two\nlines", "plain");
        assertThat(d.labels()).containsExactly(1, 0, 1);
        assertThat(d.lines()).containsExactly(2, 3, 5);   // the multi-line field starts on line 3
    }

    @Test
    void jsonlWithStringOrIntegerLabels() throws Exception {
        LabeledDataset names = read("d.jsonl", "{\"text\": \"nice\", \"label\": \"pos\"}\n\n{\"text\": \"bad\", \"label\": \"neg\"}\n", null);
        assertThat(names.labelNames()).containsExactly("neg", "pos");
        assertThat(names.labels()).containsExactly(1, 0);
        LabeledDataset ints = read("e.jsonl", "{\"sentence\": \"a\", \"label\": 2}\n{\"sentence\": \"b\", \"label\": 0}\n", null);
        assertThat(ints.labelNames()).containsExactly("0", "1", "2");
        assertThat(ints.labels()).containsExactly(2, 0);
    }

    @Test
    void explicitColumnsByNameOrIndex() throws Exception {
        Path f = dir.resolve("w.tsv");
        Files.writeString(f, "id\tbody\ttag\n1\thello\ta\n2\tbye\tb\n");
        LabeledDataset d = ClassificationData.read(f, "body", "2", null);
        assertThat(d.texts()).containsExactly("hello", "bye");
        assertThat(d.labelNames()).containsExactly("a", "b");
        assertThatThrownBy(() -> ClassificationData.read(f, null, null, null))
                .hasMessageContaining("w.tsv").hasMessageContaining("--text-column");
    }

    @Test
    void errorsNameTheFileAndLine() throws Exception {
        assertThatThrownBy(() -> read("a.tsv", "label\ttext\n0\tok\n1\ttoo\tmany\n", null))
                .hasMessageContaining("a.tsv:3").hasMessageContaining("expected 2 fields, found 3");
        assertThatThrownBy(() -> read("b.tsv", "label\ttext\n0\tok\nmaybe\tbad\n", List.of("negative", "positive")))
                .hasMessageContaining("b.tsv:3").hasMessageContaining("'maybe'").hasMessageContaining("[negative, positive]");
        assertThatThrownBy(() -> read("c.tsv", "label\ttext\n0\tok\n5\tbad\n", List.of("negative", "positive")))
                .hasMessageContaining("c.tsv:3").hasMessageContaining("'5'");
        assertThatThrownBy(() -> read("d.csv", "text,label\n\"open,1\n", null))
                .hasMessageContaining("d.csv:2").hasMessageContaining("never closed");
        assertThatThrownBy(() -> read("e.csv", "text,label\n\"x\"y,1\n", null))
                .hasMessageContaining("e.csv:2").hasMessageContaining("after a closing quote");
        assertThatThrownBy(() -> read("f.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\"\n", null))
                .hasMessageContaining("f.jsonl:2").hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> read("g.jsonl", "{\"body\": \"a\", \"label\": 1}\n", null))
                .hasMessageContaining("g.jsonl:1").hasMessageContaining("no text field").hasMessageContaining("[body, label]");
        assertThatThrownBy(() -> read("h.tsv", "label\ttext\npos\tonly one class\n", null))
                .hasMessageContaining("only one class");
        assertThatThrownBy(() -> read("i.tsv", "label\ttext\n0\t \n1\tx\n", null))
                .hasMessageContaining("i.tsv:2").hasMessageContaining("empty text");
    }

    @Test
    void sampleIsSeededAndWithoutReplacement() throws Exception {
        StringBuilder sb = new StringBuilder("label\ttext\n");
        for (int i = 0; i < 100; i++) {
            sb.append(i % 2).append("\tt").append(i).append('\n');
        }
        LabeledDataset d = read("s.tsv", sb.toString(), null);
        LabeledDataset a = d.sample(30, 7);
        assertThat(a.texts()).isEqualTo(d.sample(30, 7).texts()).doesNotHaveDuplicates().hasSize(30);
        assertThat(a.texts()).isNotEqualTo(d.sample(30, 8).texts());
        for (int i = 0; i < a.size(); i++) {   // labels travel with their texts
            int n = Integer.parseInt(a.texts().get(i).substring(1));
            assertThat(a.labels()[i]).isEqualTo(n % 2);
        }
    }

    @Test
    void realSharedFilesParse() throws Exception {
        Path shared = Path.of("../../shared/data");
        assumeTrue(Files.isDirectory(shared), "../shared/data is absent");
        LabeledDataset dev = ClassificationData.read(shared.resolve("sst2/dev.tsv"), null, null, null);
        assertThat(dev.size()).isEqualTo(872);
        assertThat(dev.labelNames()).containsExactly("0", "1");
        assertThat(dev.texts().get(0)).isEqualTo("one long string of cliches .");
        LabeledDataset sms = ClassificationData.read(shared.resolve("sms_spam/SMSSpamCollection"), null, null, null);
        assertThat(sms.labelNames()).containsExactly("ham", "spam");
        assertThat(sms.size()).isEqualTo(5574);
    }
}
